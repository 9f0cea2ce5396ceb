package compare

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"ampsflume/bench/scenario"
)

// Stats summarises the successful runs of one side.
type Stats struct {
	Runs, Failed     int
	Median, Min, Max float64 // rate
	RSS              int64   // median peak RSS, bytes
	CPUPerM          float64 // median CPU seconds per million messages
	Extra            map[string]float64
	Errs             []string
}

// Summarise computes a side's statistics.
func Summarise(runs []Run) Stats {
	var st Stats
	var rates, cpus []float64
	var rss []int64
	extras := map[string][]float64{}
	for _, r := range runs {
		if r.Err != nil {
			st.Failed++
			st.Errs = append(st.Errs, r.Err.Error())
			continue
		}
		st.Runs++
		rates = append(rates, r.Result.Rate())
		rss = append(rss, r.MaxRSS)
		if r.Result.Count > 0 {
			cpus = append(cpus, r.Result.CPU.Seconds()/float64(r.Result.Count)*1e6)
		}
		for k, v := range r.Result.Extra {
			extras[k] = append(extras[k], v)
		}
	}
	if len(rates) == 0 {
		return st
	}
	st.Median, st.Min, st.Max = median(rates), minOf(rates), maxOf(rates)
	sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
	st.RSS = rss[len(rss)/2]
	if len(cpus) > 0 {
		st.CPUPerM = median(cpus)
	}
	if len(extras) > 0 {
		st.Extra = map[string]float64{}
		for k, v := range extras {
			st.Extra[k] = median(v)
			st.Extra[k+"_max"] = maxOf(v)
		}
	}
	return st
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func fmtRate(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.2f M", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.0f K", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}

func fmtBytes(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// Ratio is ours/peer of the medians; ok is false when a side has no result.
func Ratio(ours, peer Stats) (float64, bool) {
	if ours.Runs == 0 || peer.Runs == 0 || peer.Median == 0 {
		return 0, false
	}
	return ours.Median / peer.Median, true
}

// Failed tells whether any run of any scenario failed.
func Failed(outs []*Outcome) bool {
	for _, oc := range outs {
		for _, runs := range oc.Runs {
			for _, r := range runs {
				if r.Err != nil {
					return true
				}
			}
		}
	}
	return false
}

// Machine describes where the comparison ran.
type Machine struct {
	CPU     string
	Cores   int
	Memory  string
	Go      string
	LoadAvg string // 1-minute load average when the run started
}

// ThisMachine reads /proc for the CPU model and the memory.
func ThisMachine() Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), Memory: "unknown", Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			m.LoadAvg = f[0]
		}
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 2 && fields[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
					m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				}
				break
			}
		}
		f.Close()
	}
	return m
}

// Markdown renders the report.
func Markdown(outs []*Outcome, m Machine, command string, when time.Time, runs int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %s, %d cores, %s memory, load average %s at the start (the machine is shared: absolute rates move with the load, the ratios much less); %s; %s.\n",
		m.CPU, m.Cores, m.Memory, m.LoadAvg, m.Go, when.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Command: `%s`. Each side ran %d times in a child process of its own, sides alternating; medians with min–max.\n\n", command, runs)
	b.WriteString("| Scenario | Ours | Peer | Ours median (min–max) | Peer median (min–max) | Ratio | Target ratio | |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	var lat []*Outcome
	for _, oc := range outs {
		s := oc.Scenario
		if s.Run[scenario.Peer] == nil {
			lat = append(lat, oc)
			continue
		}
		ours, peer := Summarise(oc.Runs[scenario.Ours]), Summarise(oc.Runs[scenario.Peer])
		ratio, ok := Ratio(ours, peer)
		rs, verdict := "n/a", "failed"
		if ok {
			rs = fmt.Sprintf("%.2f", ratio)
			verdict = "met"
			if ratio < s.Target {
				verdict = "below"
			}
		}
		fmt.Fprintf(&b, "| %s, %s | %s | %s | %s | %s | %s | ≥ %.1f | %s |\n",
			s.Title, countLabel(s), s.Ours, s.PeerDesc, cell(ours, s.Unit), cell(peer, s.Unit), rs, s.Target, verdict)
	}
	b.WriteString("\n| Scenario | Ours peak RSS | Peer peak RSS | Ours CPU s / M msgs | Peer CPU s / M msgs |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, oc := range outs {
		ours, peer := Summarise(oc.Runs[scenario.Ours]), Summarise(oc.Runs[scenario.Peer])
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", oc.Scenario.Name, rssCell(ours), rssCell(peer), cpuCell(ours), cpuCell(peer))
	}
	for _, oc := range lat {
		st := Summarise(oc.Runs[scenario.Ours])
		s := oc.Scenario
		fmt.Fprintf(&b, "\n%s (%s, %d s per run):\n\n", s.Title, s.Ours, int(s.Full.Length.Seconds()))
		b.WriteString("| p50 | p99 | p99.9 | max | worst p99 of the runs | goal |\n|---|---|---|---|---|---|\n")
		if st.Runs == 0 {
			b.WriteString("| failed | | | | | p99 < 5 ms |\n")
		} else {
			verdict := "met"
			if st.Extra["p99_ms"] >= 5 {
				verdict = "missed"
			}
			fmt.Fprintf(&b, "| %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms | p99 < 5 ms: %s |\n",
				st.Extra["p50_ms"], st.Extra["p99_ms"], st.Extra["p999_ms"], st.Extra["max_ms"], st.Extra["p99_ms_max"], verdict)
		}
	}
	var errs []string
	for _, oc := range outs {
		for _, side := range []string{scenario.Ours, scenario.Peer} {
			for _, e := range Summarise(oc.Runs[side]).Errs {
				errs = append(errs, fmt.Sprintf("- %s/%s: %s", oc.Scenario.Name, side, e))
			}
		}
	}
	if len(errs) > 0 {
		b.WriteString("\nFailed runs (not counted):\n\n" + strings.Join(errs, "\n") + "\n")
	}
	return b.String()
}

func countLabel(s *scenario.Scenario) string {
	n := s.Full.N
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return fmt.Sprintf("%d M", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%d K", n/1e3)
	}
	return strconv.Itoa(n)
}

func cell(st Stats, unit string) string {
	if st.Runs == 0 {
		return "failed"
	}
	c := fmt.Sprintf("%s (%s–%s) %s", fmtRate(st.Median), fmtRate(st.Min), fmtRate(st.Max), unit)
	if st.Failed > 0 {
		c += fmt.Sprintf(", %d run(s) failed", st.Failed)
	}
	return c
}

func rssCell(st Stats) string {
	if st.Runs == 0 {
		return "–"
	}
	return fmtBytes(st.RSS)
}

func cpuCell(st Stats) string {
	if st.Runs == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", st.CPUPerM)
}

// Markers delimit the generated section of the Markdown file.
const (
	BeginMarker = "<!-- compare:begin -->"
	EndMarker   = "<!-- compare:end -->"
)

// UpdateSection replaces what lies between the markers in the file at path
// with body, creating the file (with a heading and the markers) if needed.
// Everything outside the markers is kept byte for byte.
func UpdateSection(path, body string) error {
	old, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		old = []byte("# Benchmarks\n\n## Side by side with peers\n\n" + BeginMarker + "\n" + EndMarker + "\n")
	} else if err != nil {
		return err
	}
	s := string(old)
	i := strings.Index(s, BeginMarker)
	j := strings.Index(s, EndMarker)
	switch {
	case i < 0 && j < 0:
		if !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		s += "\n## Side by side with peers\n\n" + BeginMarker + "\n" + EndMarker + "\n"
		i, j = strings.Index(s, BeginMarker), strings.Index(s, EndMarker)
	case i < 0 || j < i:
		return fmt.Errorf("%s: markers %s and %s are missing or out of order", path, BeginMarker, EndMarker)
	}
	out := s[:i+len(BeginMarker)] + "\n" + strings.TrimRight(body, "\n") + "\n" + s[j:]
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(out), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
