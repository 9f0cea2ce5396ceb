package compare

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ampsflume/bench/scenario"
)

// TestMain lets the test binary serve as the child process of Compare.
func TestMain(m *testing.M) {
	if IsChild(os.Args[1:]) {
		os.Exit(ChildMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestShortSmoke runs every scenario, both sides, twice (so the order
// alternates), with tiny counts, in child processes, and checks that every
// run delivered exactly what was sent.
func TestShortSmoke(t *testing.T) {
	if !testing.Short() {
		t.Skip("the full comparison is `go run ./cmd/compare`; the smoke test runs with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var log strings.Builder
	outs, err := Compare(ctx, Options{Exe: os.Args[0], Runs: 2, Short: true, TmpDir: t.TempDir(), Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + log.String())
	if len(outs) != len(scenario.All()) {
		t.Fatalf("%d scenarios ran, want %d", len(outs), len(scenario.All()))
	}
	for _, oc := range outs {
		s := oc.Scenario
		want := int64(s.Short.N)
		if s.Short.Rate > 0 {
			want = int64(float64(s.Short.Rate) * s.Short.Length.Seconds())
		}
		for _, side := range sidesOf(s) {
			runs := oc.Runs[side]
			if len(runs) != 2 {
				t.Errorf("%s/%s: %d runs, want 2", s.Name, side, len(runs))
			}
			for i, r := range runs {
				switch {
				case r.Err != nil:
					t.Errorf("%s/%s run %d: %v", s.Name, side, i, r.Err)
				case r.Result.Count != want:
					t.Errorf("%s/%s run %d: counted %d, want %d", s.Name, side, i, r.Result.Count, want)
				case r.Result.Bytes != want*scenario.PayloadSize:
					t.Errorf("%s/%s run %d: %d bytes, want %d", s.Name, side, i, r.Result.Bytes, want*scenario.PayloadSize)
				case r.MaxRSS <= 0 || r.Result.Elapsed <= 0:
					t.Errorf("%s/%s run %d: no RSS or time: %+v", s.Name, side, i, r)
				}
			}
		}
	}
	md := Markdown(outs, ThisMachine(), "go test -short", time.Now(), 2)
	for _, s := range scenario.All() {
		if !strings.Contains(md, s.Title) {
			t.Errorf("report lacks %q:\n%s", s.Title, md)
		}
	}
	if strings.Contains(md, "failed") {
		t.Errorf("report shows failures:\n%s", md)
	}
}

func TestUpdateSection(t *testing.T) {
	tests := []struct {
		name, before, want string
	}{
		{
			name:   "replaces only between the markers",
			before: "# B\n\nmine\n" + BeginMarker + "\nold\nlines\n" + EndMarker + "\ntheirs\n",
			want:   "# B\n\nmine\n" + BeginMarker + "\nnew\n" + EndMarker + "\ntheirs\n",
		},
		{
			name:   "appends a section when there are no markers",
			before: "# B\n\ntheirs",
			want:   "# B\n\ntheirs\n\n## Side by side with peers\n\n" + BeginMarker + "\nnew\n" + EndMarker + "\n",
		},
		{
			name: "creates the file",
			want: "# Benchmarks\n\n## Side by side with peers\n\n" + BeginMarker + "\nnew\n" + EndMarker + "\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
			if tc.before != "" {
				if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := UpdateSection(path, "new\n"); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestUpdateSectionRefusesBrokenMarkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	before := "x\n" + EndMarker + "\n" + BeginMarker + "\n"
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := UpdateSection(path, "new"); err == nil {
		t.Fatal("markers out of order accepted")
	}
	got, _ := os.ReadFile(path)
	if string(got) != before {
		t.Fatalf("file changed: %q", got)
	}
}

func TestSummarise(t *testing.T) {
	runs := []Run{
		{Result: scenario.Result{Count: 1000, Elapsed: time.Second, CPU: time.Second}, MaxRSS: 30},
		{Result: scenario.Result{Count: 3000, Elapsed: time.Second, CPU: time.Second}, MaxRSS: 10},
		{Result: scenario.Result{Count: 2000, Elapsed: time.Second, CPU: time.Second}, MaxRSS: 20},
		{Err: os.ErrClosed},
	}
	st := Summarise(runs)
	if st.Runs != 3 || st.Failed != 1 || st.Median != 2000 || st.Min != 1000 || st.Max != 3000 || st.RSS != 20 {
		t.Fatalf("%+v", st)
	}
	if want := 1e6 / 2000.0; st.CPUPerM != want {
		t.Fatalf("CPU per M = %v, want %v", st.CPUPerM, want)
	}
	if r, ok := Ratio(st, Stats{Runs: 1, Median: 1000}); !ok || r != 2 {
		t.Fatalf("ratio %v %v", r, ok)
	}
	if _, ok := Ratio(st, Stats{}); ok {
		t.Fatal("ratio against a failed side")
	}
}
