package ampserver

import (
	"ampsflume/ampserver/delta"
)

// mergeDelta applies a delta_publish to the stored record of key (the
// caller holds the topic lock): paths present in the delta replace the
// stored values, absent ones keep theirs. Without a stored record the
// delta is the record. It returns the AMPS failure reason, or "".
func (t *topic) mergeDelta(key string, data []byte) ([]byte, string) {
	old := t.sow.records[key]
	if old == nil {
		return data, ""
	}
	merged, err := delta.Merge(old.data, data)
	if err != nil {
		return nil, "invalid message type"
	}
	return merged, ""
}
