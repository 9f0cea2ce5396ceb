package ampserver

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sort"
	"time"
)

// AdminClient describes one connected client in the admin interface.
type AdminClient struct {
	Name        string `json:"client_name"`
	Remote      string `json:"remote_address"`
	Transport   string `json:"transport"`
	MessagesIn  uint64 `json:"messages_in"`
	MessagesOut uint64 `json:"messages_out"`
	QueuedBytes int    `json:"queued_bytes"`
	// Subscriptions counts the client's live subscriptions: a
	// subscription is counted once publishes can reach it.
	Subscriptions int `json:"subscriptions"`
}

// AdminTopic describes one topic in the admin interface.
type AdminTopic struct {
	Name        string `json:"name"`
	MessagesIn  uint64 `json:"messages_in"`
	MessagesOut uint64 `json:"messages_out"`
	SOW         bool   `json:"sow"`
	SOWRecords  int    `json:"sow_records"`
}

// AdminStatus is the admin interface's view of the server.
type AdminStatus struct {
	Name    string        `json:"name"`
	Version string        `json:"version"`
	Clients []AdminClient `json:"clients"`
	Topics  []AdminTopic  `json:"topics"`
}

// Status reports clients and topics; it is what the admin interface serves.
func (s *Server) Status() AdminStatus {
	st := AdminStatus{Name: s.cfg.Name, Version: ServerVersion, Clients: []AdminClient{}, Topics: []AdminTopic{}}
	s.mu.Lock()
	clients := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		clients = append(clients, c)
	}
	topics := make([]*topic, 0, len(s.topics))
	for _, t := range s.topics {
		topics = append(topics, t)
	}
	names := make(map[*client]string, len(clients))
	for name, c := range s.byName {
		names[c] = name
	}
	s.mu.Unlock()
	subs := make(map[*client]int, len(clients))
	for _, sub := range s.subs.Load().subs {
		subs[sub.client]++
	}
	for _, c := range clients {
		st.Clients = append(st.Clients, AdminClient{
			Name: names[c], Remote: c.remote, Transport: c.transport,
			MessagesIn: c.msgsIn.Load(), MessagesOut: c.msgsOut.Load(), QueuedBytes: c.queuedBytes(),
			Subscriptions: subs[c],
		})
	}
	for _, t := range topics {
		at := AdminTopic{Name: t.name, MessagesIn: t.msgsIn.Load(), MessagesOut: t.msgsOut.Load(), SOW: t.sow != nil}
		if t.sow != nil {
			t.mu.Lock()
			at.SOWRecords = len(t.sow.records)
			t.mu.Unlock()
		}
		st.Topics = append(st.Topics, at)
	}
	sort.Slice(st.Clients, func(i, j int) bool { return st.Clients[i].Name < st.Clients[j].Name })
	sort.Slice(st.Topics, func(i, j int) bool { return st.Topics[i].Name < st.Topics[j].Name })
	return st
}

func (s *Server) startAdmin(ctx context.Context) error {
	var lc net.ListenConfig
	addr, err := normalizeAddr(s.cfg.Admin.InetAddr)
	if err != nil {
		return err
	}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return errors.Join(errors.New("admin"), err)
	}
	mux := http.NewServeMux()
	serve := func(part string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			st := s.Status()
			var v any = st
			switch part {
			case "clients":
				v = st.Clients
			case "topics":
				v = st.Topics
			}
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.Encode(v)
		}
	}
	mux.HandleFunc("GET /amps", serve(""))
	mux.HandleFunc("GET /amps/clients", serve("clients"))
	mux.HandleFunc("GET /amps/topics", serve("topics"))
	s.adminPage(mux, serve(""))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.adminLn = ln
	s.httpSrvs = append(s.httpSrvs, hs)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin interface stopped", "err", err)
		}
	}()
	s.log.Info("admin listening", "addr", ln.Addr().String())
	return nil
}
