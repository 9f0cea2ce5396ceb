package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
)

// benchFrames returns n distinct frame bodies (no length prefix) with header
// h, where vary changes the fields that differ per message.
func benchFrames(n int, h Header, vary func(h *Header, i int)) [][]byte {
	payload := []byte(`{"order_key":12345,"symbol":"MSFT","price":62.15,"qty":100,"side":"buy","trader":"t01","n":000000}`)
	out := make([][]byte, n)
	for i := range out {
		hh := h
		vary(&hh, i)
		out[i] = AppendFrame(nil, &hh, payload)[4:]
	}
	return out
}

// deliveryBench are frames as a subscriber receives them: the bookmark and
// the timestamp change with every message.
func deliveryBench() [][]byte {
	return benchFrames(1024, Header{Command: "p", Topic: "bench", SubID: "1", SubIDs: "1"}, func(h *Header, i int) {
		h.Bookmark = fmt.Sprintf("17643421|%d|", 1000000+i)
		h.Timestamp = fmt.Sprintf("20261127T111630.%06dZ", i)
	})
}

// publishBench are frames as a server receives them from a publisher: the
// command id changes with every message.
func publishBench() [][]byte {
	return benchFrames(1024, Header{Command: "p", Topic: "bench"}, func(h *Header, i int) {
		h.CommandID = fmt.Sprint(1000000 + i)
	})
}

// benchParseInto parses each frame into a zero Header, as a reader that
// hands its headers out does.
func benchParseInto(b *testing.B, frames [][]byte) {
	var a Arena
	var cache Header
	hs := make([]Header, len(frames))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		hs[i] = Header{}
		if _, err := a.ParseInto(frames[i], &hs[i], &cache); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(frames) {
			i = 0
		}
	}
}

func BenchmarkParseIntoDelivery(b *testing.B) { benchParseInto(b, deliveryBench()) }
func BenchmarkParseIntoPublish(b *testing.B)  { benchParseInto(b, publishBench()) }

// BenchmarkReaderNext reads delivery frames from a buffered stream.
func BenchmarkReaderNext(b *testing.B) {
	var stream []byte
	for _, f := range deliveryBench() {
		stream = binary.BigEndian.AppendUint32(stream, uint32(len(f)))
		stream = append(stream, f...)
	}
	src := bytes.NewReader(stream)
	br := bufio.NewReaderSize(src, 64<<10)
	rd := NewReader(br, 0)
	b.SetBytes(int64(len(stream) / 1024))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rd.Next(); err != nil {
			if err != io.EOF {
				b.Fatal(err)
			}
			src.Reset(stream)
			br.Reset(src)
		}
	}
}
