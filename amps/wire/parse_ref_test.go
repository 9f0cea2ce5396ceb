package wire

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// parseFieldsRef is the plain one-token-at-a-time definition of parseFields
// (scanString for every string, skipSpace between every token), which
// the fast paths of parseFields must agree with on every input. It parses the header at the start of b into the fields of h it
// names (others are left as they are), taking string values equal to
// those in prev from prev, and storing the new ones in prev.
func parseFieldsRef(b []byte, h, prev *Header, a *Arena) (n int, err error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, frameErr("header does not start with '{'")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, frameErr("header key is not a string")
		}
		ks, ke, esc, next, ok := scanString(b, i)
		if !ok {
			return 0, frameErr("unterminated header key")
		}
		var key []byte
		if esc {
			key = unescape(nil, b[ks:ke])
		} else {
			key = b[ks:ke]
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return 0, frameErr("missing ':' after header key")
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return 0, frameErr("truncated header")
		}
		var raw []byte // the value's bytes (string contents or literal token)
		escaped, isNull := false, false
		switch c := b[i]; {
		case c == '"':
			vs, ve, e, nx, ok := scanString(b, i)
			if !ok {
				return 0, frameErr("unterminated header value")
			}
			raw, escaped, i = b[vs:ve], e, nx
		case c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n':
			s := i
			for i < len(b) && isLiteralByte(b[i]) {
				i++
			}
			raw = b[s:i]
			switch string(raw) {
			case "null":
				isNull = true
			case "true", "false":
			default:
				if !isNumber(raw) {
					return 0, frameErr("bad header value for " + strconv.Quote(string(key)))
				}
			}
		default:
			return 0, frameErr("bad header value for " + strconv.Quote(string(key)))
		}
		if !isNull {
			if err := h.set(prev, key, raw, escaped, a); err != nil {
				return 0, err
			}
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, frameErr("truncated header")
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, frameErr("expected ',' or '}' in header")
		}
	}
}

// checkParseFields parses frames one after the other with
// Arena.ParseInto (parseFields, one cache) and with
// parseFieldsRef (its own cache), each into a zero Header, and fails
// unless the headers, the caches and the errors agree at every frame.
func checkParseFields(t *testing.T, frames ...string) {
	t.Helper()
	var a, aRef Arena
	var c1, c2 Header
	for _, in := range frames {
		var h1, h2 Header
		buf := []byte(in)
		p1, err1 := a.ParseInto(buf, &h1, &c1)
		n2, err2 := parseFieldsRef([]byte(in), &h2, &c2, &aRef)
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) || (err1 == nil && len(in)-len(p1) != n2) {
			t.Fatalf("frames %q: ParseInto(%q) = %d, %v; reference %d, %v", frames, in, len(in)-len(p1), err1, n2, err2)
		}
		if err1 != nil {
			var fe *FrameError
			if !errors.As(err1, &fe) {
				t.Fatalf("ParseInto(%q): error of type %T", in, err1)
			}
		} else if h1 != h2 {
			t.Fatalf("frames %q: ParseInto(%q)\n got  %+v\n want %+v", frames, in, h1, h2)
		}
		if c1 != c2 {
			t.Fatalf("frames %q: after %q cache\n got  %+v\n want %+v", frames, in, c1, c2)
		}
		clear(buf) // the reader's buffer is reused
	}
}

// parseFieldsCases are compact headers (the fast paths), headers with
// whitespace, escapes, literals and errors in every position (the general
// scan), and their truncations.
var parseFieldsCases = []string{
	`{"c":"p","t":"orders","sub_id":"s1","sids":"s1","bm":"1|2|","ts":"20261127T095337.000001Z"}payload`,
	`{"c":"p","t":"bench","cid":"1000001","s":7,"a":"persisted"}{"x":1}`,
	` { "c" : "p" , "t" :"x", "s": 1 ,"l" :4 } abcd`,
	"{\t\"c\"\n:\r\"p\"\n}",
	`{}`, `{ }`, ` {}`, `{"c":null,"t":true,"x":false}`,
	`{"c\u0021":"p","t":"a\"b","x":"\\"}`, `{"\u0063":"sow"}`,
	`{"k\"ey":"v"}`, `{"t":"` + "abcdefgh\\\"ijklmnop" + `"}`,
	`{"s":-1}`, `{"s":"12"}`, `{"bs":"x"}`, `{"bs":1.5}`, `{"l":"-"}`, `{"bs":10.0}`,
	`{"c":tru}`, `{"c":01x}`, `{"c":{}}`, `{"c":[1]}`, `{c:"p"}`, `{"c":"p" "t":"x"}`,
	`{"s":99999999999999999999}`, `{"top_n":1e3}`, `{"matches":-5,"records_returned":"3"}`,
	`{"c":"p",}`, `{,}`, `[`, ``, `   `, `{"c":"p"` + "\x00" + `}`,
	`{"unknown":"value","also":12,"c":"p"}`,
	`{"c":"pppppppppppppppppppppppppppppp","t":"tttttttttttttttttttttttt\\u00e9"}`,
}

func TestParseFieldsMatchesReference(t *testing.T) {
	priors := []string{parseFieldsCases[0], parseFieldsCases[1], `{"c":"p","t":"a\"b"}`, `{"c":"p","t":"x","cmd":"sow"}`}
	for _, in := range parseFieldsCases {
		for n := 0; n <= len(in); n++ {
			checkParseFields(t, in[:n])
			for _, prior := range priors {
				checkParseFields(t, prior, in[:n], prior, in)
			}
		}
	}
	// Every byte of a compact header replaced by each byte that changes
	// how it scans, after the header itself.
	for _, base := range parseFieldsCases[:2] {
		for i := range len(base) {
			for _, c := range []byte{' ', '"', '\\', ':', ',', '}', '{', 'n', '1', 'x', 0} {
				b := []byte(base)
				b[i] = c
				checkParseFields(t, base, string(b), base, string(b))
			}
		}
	}
	// Fields that repeat, change, move, vanish or come back through an
	// alias from frame to frame.
	checkParseFields(t,
		`{"c":"p","t":"x","sub_id":"1","sids":"1","bm":"1|1|","ts":"a"}`,
		`{"c":"p","t":"x","sub_id":"1","sids":"1","bm":"1|2|","ts":"b"}`,
		`{"c":"p","t":"x","sub_id":"1","sids":"1","bm":"1|2|","ts":"b","c":"oof"}`,
		`{"c":"p","t":"x","sub_id":"1","sids":"1","bm":"1|2|","ts":"b"}`,
		`{"c":"p","t":"x","cmd":"sow","sub_id":"1"}`,
		`{"c":"p","t":"x","sub_id":"1"}`,
		`{"t":"x","c":"p","sub_id":"1"}`,
		`{"c":"p","t":"x","sub_id":"1"}`,
		`{"c":"p","command":"q","t":"x"}`,
		`{"c":"p","t":"x"}`,
		`{"c":"p","t":"ord\u0065rs"}`,
		`{"c":"p","t":"orders"}`,
		`{"c":"p","t":"x","s":1,"sub_id":"1"}`,
		`{"c":"p","t":"x","s":2,"sub_id":"2"}`,
		`{}`,
		`{"c":"p","t":"x","s":2,"sub_id":"2"}`,
		`{"c":"p","t":"x","s":2,"sub_id":"2"`,
		`{"c":"p","t":"x","s":2,"sub_id":"2"}`,
		`{"c":"p","t":"x","sids":"1","a":"b","b":"c","d":"e","f":"g","h":"i","j":"k","l":"m"}`,
		`{"c":"p","t":"x","sids":"1","a":"b","b":"c","d":"e","f":"g","h":"i","j":"k","l":"m"}`,
		`{"c":"p","cid":"1","t":"`+strings.Repeat("y", 300)+`"}`,
		`{"c":"p","cid":"2","t":"`+strings.Repeat("y", 300)+`"}`,
	)
	var frames []string
	for i := range 2000 {
		frames = append(frames, `{"c":"p","cid":"`+strconv.Itoa(i)+`","t":"t"}`)
	}
	checkParseFields(t, frames...)
}

func FuzzParseFields(f *testing.F) {
	for _, s := range parseFieldsCases {
		f.Add(parseFieldsCases[0], s, parseFieldsCases[1])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		checkParseFields(t, a, b, c, a, b, c)
	})
}
