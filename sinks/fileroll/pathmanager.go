package fileroll

import (
	"strconv"
	"time"
)

// pathManager hands out file names in Flume's two schemes.
type pathManager struct {
	rollTime  bool
	prefix    string
	extension string
	series    int64 // default scheme: milliseconds when configured
	index     int   // last number handed out
	lastStamp string
}

func (p *pathManager) next(now time.Time) string {
	var stamp string
	if p.rollTime {
		stamp = now.Local().Format("20060102150405")
		if stamp != p.lastStamp {
			p.index = 0
			p.lastStamp = stamp
		}
	} else {
		stamp = strconv.FormatInt(p.series, 10)
	}
	p.index++
	name := p.prefix + stamp + "-" + strconv.Itoa(p.index)
	if p.extension != "" {
		name += "." + p.extension
	}
	return name
}
