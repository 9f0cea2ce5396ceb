package amps

import (
	"testing"
)

func TestPrepare(t *testing.T) {
	tests := []struct {
		name                     string
		cmd                      Command
		cid, subID, queryID, ack string
		wireCmd                  string
		bs                       int
		userAcks                 string
	}{
		{name: "publish", cmd: Command{Name: CmdPublish, Topic: "t"}, cid: "5", wireCmd: "p"},
		{name: "publish with persisted ack", cmd: Command{Name: CmdPublish, Topic: "t", AckType: "persisted"},
			cid: "5", wireCmd: "p", ack: "persisted", userAcks: "persisted"},
		{name: "subscribe gets sub_id = cid", cmd: Command{Name: CmdSubscribe, Topic: "t"},
			cid: "5", subID: "5", ack: "processed", wireCmd: "subscribe"},
		{name: "subscribe keeps its sub_id", cmd: Command{Name: CmdDeltaSubscribe, Topic: "t", SubID: "mine"},
			cid: "5", subID: "mine", ack: "processed", wireCmd: "delta_subscribe"},
		{name: "sow gets query_id = cid and bs 10", cmd: Command{Name: CmdSow, Topic: "t"},
			cid: "5", queryID: "5", ack: "processed,completed", bs: 10, wireCmd: "sow"},
		{name: "sow keeps batch size", cmd: Command{Name: CmdSow, Topic: "t", BatchSize: 100, QueryID: "q"},
			cid: "5", queryID: "q", ack: "processed,completed", bs: 100, wireCmd: "sow"},
		{name: "sow_and_subscribe query_id = sub_id", cmd: Command{Name: CmdSowAndSubscribe, Topic: "t", SubID: "s1"},
			cid: "5", subID: "s1", queryID: "s1", ack: "processed", bs: 10, wireCmd: "sow_and_subscribe"},
		{name: "sow_and_subscribe user acks merged", cmd: Command{Name: CmdSowAndDeltaSubscribe, Topic: "t", AckType: "completed,stats"},
			cid: "5", subID: "5", queryID: "5", ack: "processed,completed,stats", bs: 10,
			wireCmd: "sow_and_delta_subscribe", userAcks: "completed,stats"},
		{name: "sow_delete asks stats", cmd: Command{Name: CmdSowDelete, Topic: "t", Filter: "1=1"},
			cid: "5", ack: "processed,stats", wireCmd: "sow_delete"},
		{name: "explicit cid", cmd: Command{Name: CmdFlush, CommandID: "mine"}, cid: "mine", ack: "processed", wireCmd: "flush"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := prepare(&tt.cmd, "5")
			h := p.hdr
			if h.Command != tt.wireCmd || h.CommandID != tt.cid || h.SubID != tt.subID || h.QueryID != tt.queryID ||
				h.AckType != tt.ack || h.BatchSize != tt.bs {
				t.Fatalf("header %+v", h)
			}
			if p.userAcks.String() != tt.userAcks {
				t.Fatalf("user acks %q, want %q", p.userAcks, tt.userAcks)
			}
		})
	}
}

func TestPrepareCopiesFields(t *testing.T) {
	cmd := Command{Name: CmdSow, Topic: "Orders", Filter: "/a > 1", Options: "oof", Bookmark: "0",
		OrderBy: "/a DESC", SowKeys: "1,2", CorrelationID: "x", Expiration: "30", TopN: 3,
		Seq: 9, HasSeq: true, Data: []byte("d")}
	p := prepare(&cmd, "1")
	h := p.hdr
	if h.Topic != "Orders" || h.Filter != "/a > 1" || h.Options != "oof" || h.Bookmark != "0" ||
		h.OrderBy != "/a DESC" || h.SowKeys != "1,2" || h.CorrelationID != "x" || h.Expiration != "30" ||
		h.TopN != 3 || h.Seq != 9 || !h.HasSeq || string(p.data) != "d" {
		t.Fatalf("header %+v", h)
	}
	if cmd.CommandID != "" || cmd.QueryID != "" || cmd.BatchSize != 0 {
		t.Fatalf("prepare modified the caller's command: %+v", cmd)
	}
}
