package file

import (
	"bytes"
	"testing"

	"ampsflume/flume"
)

func TestRecordRoundTrip(t *testing.T) {
	e := flume.NewEvent([]byte("body"), map[string]string{"a": "1", "": "", "k": "v"})
	var buf []byte
	buf = appendPut(buf, 7, e)
	buf = appendTake(buf, 7, mkptr(3, 4096))
	buf = appendMarker(buf, recCommit, 7)
	buf = appendMarker(buf, recRollback, 8)
	var got []record
	for len(buf) > 0 {
		r, n, err := decodeRecord(buf, DefaultMaxFileSize, true)
		requireNoError(t, err)
		got = append(got, r)
		buf = buf[n:]
	}
	if len(got) != 4 || got[0].typ != recPut || string(got[0].event.Body) != "body" || len(got[0].event.Headers) != 3 ||
		got[1].taken != mkptr(3, 4096) || got[2].typ != recCommit || got[3].txid != 8 {
		t.Fatalf("round trip: %+v", got)
	}
}

func TestQueue(t *testing.T) {
	var q queue
	var model []ptr
	for i := range 500 {
		switch i % 7 {
		case 0, 1, 2:
			q.pushBack(ptr(i))
			model = append(model, ptr(i))
		case 3:
			q.pushFront(ptr(i))
			model = append([]ptr{ptr(i)}, model...)
		default:
			p, ok := q.popFront()
			if ok != (len(model) > 0) || (ok && p != model[0]) {
				t.Fatalf("pop %d,%v; model %v", p, ok, model)
			}
			if ok {
				model = model[1:]
			}
		}
		requireEqual(t, "queue", q.snapshot(), model)
	}
}

// FuzzDecodeRecord feeds arbitrary bytes to the record decoder: it must
// never panic, and whatever it accepts must encode back to the same bytes'
// meaning.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(appendPut(nil, 1, flume.NewEvent([]byte("x"), map[string]string{"h": "v"})))
	f.Add(appendTake(nil, 2, mkptr(1, 16)))
	f.Add(appendMarker(nil, recCommit, 3))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, n, err := decodeRecord(b, DefaultMaxFileSize, true)
		if err != nil {
			return
		}
		var again []byte
		switch r.typ {
		case recPut:
			again = appendPut(nil, r.txid, r.event)
		case recTake:
			again = appendTake(nil, r.txid, r.taken)
		default:
			again = appendMarker(nil, r.typ, r.txid)
		}
		r2, n2, err := decodeRecord(again, DefaultMaxFileSize, true)
		if err != nil || r2.typ != r.typ || r2.txid != r.txid || r2.taken != r.taken {
			t.Fatalf("re-encoding %x gave %+v, %v", b[:n], r2, err)
		}
		if r.typ == recPut && (!bytes.Equal(r.event.Body, r2.event.Body) || len(r.event.Headers) != len(r2.event.Headers)) {
			t.Fatalf("event changed: %+v vs %+v", r.event, r2.event)
		}
		if r.typ != recPut && n2 != n {
			t.Fatalf("size %d vs %d", n, n2)
		}
	})
}

// FuzzDecodeCheckpoint: arbitrary checkpoint files never panic, and a valid
// one survives a round trip.
func FuzzDecodeCheckpoint(f *testing.F) {
	ck := &checkpoint{pos: mkptr(2, 100), nextTxid: 9, queue: []ptr{mkptr(1, 16), mkptr(2, 40)},
		pending: []pendingTx{{txid: 8, puts: []ptr{mkptr(2, 60)}, takes: []ptr{mkptr(1, 30)}}}}
	f.Add(ck.encode())
	f.Add([]byte(ckptMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCheckpoint(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.encode(), b) {
			t.Fatalf("checkpoint does not round-trip")
		}
	})
}
