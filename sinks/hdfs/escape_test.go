package hdfs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"ampsflume/flume"
)

func TestEscapes(t *testing.T) {
	morning := time.Date(2024, 3, 5, 9, 7, 3, 456e6, time.UTC)
	afternoon := time.Date(2024, 12, 31, 13, 7, 3, 0, time.FixedZone("X", -8*3600))
	host := Host{Name: "host1", IP: "10.0.0.1", FQDN: "host1.example.com"}
	e := flume.NewEvent(nil, map[string]string{"h": "val", "dir": "a/b", "dots": "..."})
	for _, tc := range []struct {
		tmpl string
		ts   time.Time
		want string
	}{
		{"%a", morning, "Tue"},
		{"%A", morning, "Tuesday"},
		{"%b", morning, "Mar"},
		{"%B", morning, "March"},
		{"%c", morning, "Tue Mar 5 09:07:03 2024"},
		{"%d", morning, "05"},
		{"%D", morning, "03/05/24"},
		{"%e", morning, "5"},
		{"%H", morning, "09"},
		{"%I", morning, "09"},
		{"%I", afternoon, "01"},
		{"%j", morning, "065"},
		{"%j", afternoon, "366"},
		{"%k", morning, "9"},
		{"%k", afternoon, "13"},
		{"%l", morning, "9"},
		{"%l", afternoon, "1"},
		{"%m", morning, "03"},
		{"%M", morning, "07"},
		{"%n", morning, "3"},
		{"%n", afternoon, "12"},
		{"%p", morning, "AM"},
		{"%p", afternoon, "PM"},
		{"%s", morning, "1709629623"},
		{"%S", morning, "03"},
		{"%t", morning, "1709629623456"},
		{"%y", morning, "24"},
		{"%Y", morning, "2024"},
		{"%z", morning, "+0000"},
		{"%z", afternoon, "-0800"},
		{"100%%", morning, "100%"},
		{"%{h}", morning, "val"},
		{"%{missing}", morning, ""},
		{"/x/%{dir}/%{dots}", morning, "/x/a/b/..."},
		{"%[localhost]", morning, "host1"},
		{"%[IP]", morning, "10.0.0.1"},
		{"%[ip]", morning, "10.0.0.1"},
		{"%[FQDN]", morning, "host1.example.com"},
		{"/flume/%{h}/%Y-%m-%d/%H%M/%[localhost]-", morning, "/flume/val/2024-03-05/0907/host1-"},
	} {
		t.Run(tc.tmpl, func(t *testing.T) {
			tm, err := ParseTemplate(tc.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tm.Expand(nil, e, tc.ts, host)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("%s = %q, want %q", tc.tmpl, got, tc.want)
			}
		})
	}
}

func TestNeedsTime(t *testing.T) {
	for s, want := range map[string]bool{
		"/a/b": false, "100%%": false, "%{h}": false, "%[IP]": false,
		"%Y": true, "/x/%{h}/%t": true, "%s": true, "%[FQDN]%H": true,
	} {
		tm, err := ParseTemplate(s)
		if err != nil {
			t.Fatal(err)
		}
		if tm.NeedsTime != want {
			t.Errorf("%q: NeedsTime = %v", s, tm.NeedsTime)
		}
	}
}

func TestTemplateErrors(t *testing.T) {
	for _, s := range []string{"%", "/a/%", "%q", "%{", "%{h", "%{}", "%[x]", "%[localhost", "%[]"} {
		if _, err := ParseTemplate(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}

func TestHeaderValueChecks(t *testing.T) {
	tm, err := ParseTemplate("/base/%{d}")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"..", "../x", "a/../../b", "/etc", `\x`, `a\..\b`, "a\x00b"} {
		_, err := tm.Expand(nil, flume.NewEvent(nil, map[string]string{"d": v}), time.Time{}, Host{})
		if !errors.Is(err, ErrUnsafePath) {
			t.Errorf("%q: error %v, want ErrUnsafePath", v, err)
		}
	}
	for _, v := range []string{"a", "a/b", "...", "a..b", ".x", ""} {
		if _, err := tm.Expand(nil, flume.NewEvent(nil, map[string]string{"d": v}), time.Time{}, Host{}); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
}

func TestRounding(t *testing.T) {
	at := time.Date(2024, 3, 5, 10, 27, 45, 123e6, time.UTC)
	for _, tc := range []struct {
		r    Rounding
		want time.Time
	}{
		{Rounding{}, at},
		{Rounding{Value: 15, Unit: "second"}, time.Date(2024, 3, 5, 10, 27, 45, 0, time.UTC)},
		{Rounding{Value: 20, Unit: "second"}, time.Date(2024, 3, 5, 10, 27, 40, 0, time.UTC)},
		{Rounding{Value: 10, Unit: "minute"}, time.Date(2024, 3, 5, 10, 20, 0, 0, time.UTC)},
		{Rounding{Value: 1, Unit: "minute"}, time.Date(2024, 3, 5, 10, 27, 0, 0, time.UTC)},
		{Rounding{Value: 6, Unit: "hour"}, time.Date(2024, 3, 5, 6, 0, 0, 0, time.UTC)},
	} {
		if got := tc.r.Apply(at); !got.Equal(tc.want) {
			t.Errorf("%+v: %v, want %v", tc.r, got, tc.want)
		}
	}
	// Rounding is done in the configured zone: 6-hour buckets in UTC-5.
	ny := time.FixedZone("EST", -5*3600)
	got := Rounding{Value: 6, Unit: "hour"}.Apply(at.In(ny)) // 05:27 EST
	if want := time.Date(2024, 3, 5, 0, 0, 0, 0, ny); !got.Equal(want) {
		t.Errorf("in EST: %v, want %v", got, want)
	}
}

func TestTimestamp(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	e := flume.NewEvent(nil, map[string]string{"timestamp": "1709629623456"})
	got, err := Timestamp(e, false, now, Rounding{}, time.UTC)
	if err != nil || got.UnixMilli() != 1709629623456 {
		t.Fatalf("%v %v", got, err)
	}
	if got, _ := Timestamp(e, true, now, Rounding{}, time.UTC); !got.Equal(now) {
		t.Fatalf("useLocalTimeStamp: %v", got)
	}
	if _, err := Timestamp(flume.NewEvent(nil, nil), false, now, Rounding{}, time.UTC); !errors.Is(err, ErrNoTimestamp) {
		t.Fatalf("missing header: %v", err)
	}
	bad := flume.NewEvent(nil, map[string]string{"timestamp": "yesterday"})
	if _, err := Timestamp(bad, false, now, Rounding{}, time.UTC); err == nil || errors.Is(err, ErrNoTimestamp) {
		t.Fatalf("bad header: %v", err)
	}
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"/flume/%{h}/%Y-%m-%d/%H%M", "%[localhost]%%", "%", "%{", "%[IP]-%t", "a%zb%{x y}"} {
		f.Add(s, "val")
	}
	f.Fuzz(func(t *testing.T, s, hv string) {
		tm, err := ParseTemplate(s)
		if err != nil {
			return
		}
		if tm.String() != s {
			t.Fatalf("String() = %q", tm.String())
		}
		out, err := tm.Expand(nil, flume.NewEvent(nil, map[string]string{"h": hv, "x y": hv}), time.Unix(1e9, 0).UTC(), Host{Name: "n"})
		if err != nil {
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !strings.HasPrefix(string(out), tm.LiteralPrefix()) {
			t.Fatalf("expansion %q lost the literal prefix %q", out, tm.LiteralPrefix())
		}
	})
}
