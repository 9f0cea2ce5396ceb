package options

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Options
	}{
		{"empty", "", Options{}},
		{"only commas", " , ,", Options{}},
		{
			"article", "projection=[/symbol,avg(/price) as /avg_price,avg(/price*/qty) as /avg_total],grouping=[/symbol],conflation=1s",
			Options{
				Projection: []string{"/symbol", "avg(/price) as /avg_price", "avg(/price*/qty) as /avg_total"},
				Grouping:   []string{"/symbol"},
				Conflation: Conflation{Mode: ConflationInterval, Interval: time.Second},
			},
		},
		{
			// A .properties continuation keeps the newline out but a client
			// may still send the indentation; both must be tolerated.
			"continuation whitespace", "projection=[/symbol,avg(/price) as /avg_price,\n    avg(/price*/qty) as /avg_total],grouping=[/symbol],conflation=1s,",
			Options{
				Projection: []string{"/symbol", "avg(/price) as /avg_price", "avg(/price*/qty) as /avg_total"},
				Grouping:   []string{"/symbol"},
				Conflation: Conflation{Mode: ConflationInterval, Interval: time.Second},
			},
		},
		{
			"spaces around equals", " conflation = 100ms , conflation_key = [ /tickerId , /venue ] ,oof",
			Options{
				Conflation:    Conflation{Mode: ConflationInterval, Interval: 100 * time.Millisecond},
				ConflationKey: []string{"/tickerId", "/venue"},
				OOF:           true,
			},
		},
		{"conflation minutes", "conflation=2m", Options{Conflation: Conflation{Mode: ConflationInterval, Interval: 2 * time.Minute}}},
		{"conflation fraction", "conflation=1.5s", Options{Conflation: Conflation{Mode: ConflationInterval, Interval: 1500 * time.Millisecond}}},
		{"conflation auto", "conflation=auto", Options{Conflation: Conflation{Mode: ConflationAuto}}},
		{"conflation none", "conflation=none", Options{}},
		{
			"flags", "oof,no_empties,send_keys,no_sowkey,timestamp,replace,fully_durable,cancel,expire",
			Options{OOF: true, NoEmpties: true, SendKeys: true, NoSowKey: true, Timestamp: true, Replace: true, FullyDurable: true, Cancel: true, Expire: true},
		},
		{
			"paging", "top_n=10,skip_n=20,batch_size=5,orderby=/price DESC",
			Options{TopN: 10, HasTopN: true, SkipN: 20, HasSkipN: true, BatchSize: 5, HasBatchSize: true, OrderBy: "/price DESC"},
		},
		{"top_n zero", "top_n=0", Options{HasTopN: true}},
		{
			"passthrough", "pause,rate=2.0X,rate_max_gap=10s,bookmark_not_found=epoch,max_backlog=3,ack_conflation=100ms",
			Options{Pause: true, Rate: "2.0X", RateMaxGap: "10s", BookmarkNotFound: "epoch", MaxBacklog: 3, HasMaxBacklog: true, AckConflation: "100ms"},
		},
		{"live", "live", Options{Live: true}},
		{"resume", "resume", Options{Resume: true}},
		{"select", "select=[-/a,+/b]", Options{Select: []string{"-/a", "+/b"}}},
		{"case insensitive name", "OOF,Conflation=1S", Options{OOF: true, Conflation: Conflation{Mode: ConflationInterval, Interval: time.Second}}},
		{"unbracketed single list", "projection=/a,grouping=/a", Options{Projection: []string{"/a"}, Grouping: []string{"/a"}}},
		{
			"nested brackets and strings", "projection=[/a,GROUP_CONCAT(/b, ',') as /c,IF(/x IN (1,2), [/odd name], 0) as /d],grouping=[/a]",
			Options{Projection: []string{"/a", "GROUP_CONCAT(/b, ',') as /c", "IF(/x IN (1,2), [/odd name], 0) as /d"}, Grouping: []string{"/a"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("Parse(%q)\n got %+v\nwant %+v", tc.in, *got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, option, msg string
	}{
		{"bogus", "bogus", "unknown option"},
		{"oof=1", "oof", "takes no value"},
		{"top_n", "top_n", "requires a value"},
		{"top_n=", "top_n", "requires a value"},
		{"top_n=-1", "top_n", "non-negative"},
		{"top_n=x", "top_n", "non-negative"},
		{"skip_n=3", "skip_n", "requires top_n"},
		{"conflation=10", "conflation", "needs a unit"},
		{"conflation=10parsecs", "conflation", "unknown unit"},
		{"conflation=0s", "conflation", "out of range"},
		{"conflation=s", "conflation", "not a number"},
		{"conflation=1..2s", "conflation", "not a number"},
		{"conflation_key=[/a]", "conflation_key", "requires conflation"},
		{"projection=[/a]", "projection", "requires grouping"},
		{"grouping=[/a]", "grouping", "requires projection"},
		{"projection=[/a,grouping=[/a]", "", "unclosed"},
		{"projection=[],grouping=[/a]", "projection", "empty"},
		{"projection=[/a]x,grouping=[/a]", "projection", "closing"},
		{"oof,oof", "oof", "more than once"},
		{"=1", "=1", "no option name"},
		{"a)", "", "unbalanced"},
		{"projection=['a,grouping=[/a]", "", "unterminated"},
		{"live,pause", "live", "cannot be combined"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := Parse(tc.in)
			var oe *Error
			if !errors.As(err, &oe) {
				t.Fatalf("Parse(%q) = %v, want *Error", tc.in, err)
			}
			if oe.Reason() != "invalid options" || !strings.HasPrefix(err.Error(), "invalid options") {
				t.Fatalf("reason %q / %q", oe.Reason(), err)
			}
			if oe.Option != tc.option || !strings.Contains(oe.Msg, tc.msg) {
				t.Fatalf("Parse(%q) = option %q msg %q; want option %q msg containing %q", tc.in, oe.Option, oe.Msg, tc.option, tc.msg)
			}
			if tc.option != "" && !strings.Contains(err.Error(), tc.option) {
				t.Fatalf("error %q does not name %q", err, tc.option)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"projection=[/symbol,avg(/price) as /avg_price,avg(/price*/qty) as /avg_total],grouping=[/symbol],conflation=1s",
		"oof, conflation = 100ms ,conflation_key=[/a],",
		"top_n=3,skip_n=1,orderby=/a desc",
		"select=[-/a],rate=2X,live",
		"projection=[IF(/a IN ('x,y'),1,0) as /b],grouping=[/c]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := Parse(s)
		if err != nil {
			var oe *Error
			if !errors.As(err, &oe) {
				t.Fatalf("non-*Error %T", err)
			}
			return
		}
		if o.Conflation.Mode == ConflationInterval && o.Conflation.Interval <= 0 {
			t.Fatalf("non-positive interval from %q", s)
		}
		for _, l := range [][]string{o.Projection, o.Grouping, o.ConflationKey, o.Select} {
			for _, e := range l {
				if e == "" || strings.TrimSpace(e) != e {
					t.Fatalf("untrimmed or empty entry %q from %q", e, s)
				}
			}
		}
	})
}
