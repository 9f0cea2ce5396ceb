package wire

// Header is a parsed AMPS header: a flat JSON object of the `amps` protocol.
// String fields are empty and numeric fields zero when absent; HasSeq tells
// whether `s` was present. Parsers accept every alias of a field (reference
// names in comments); encoders emit only the canonical short name on the left,
// because C-family AMPS clients disconnect on keys they do not know.
type Header struct {
	Command       string // c (cmd); "p" is publish
	CommandID     string // cid (cmd_id)
	Topic         string // t (topic)
	SubID         string // sub_id
	SubIDs        string // sids (sub_ids): comma list on deliveries
	QueryID       string // query_id
	AckType       string // a (ack, ack_type): comma list on commands, one type on acks
	Status        string // status: success | failure | retry
	Reason        string // reason
	Bookmark      string // bm (bookmark)
	Timestamp     string // ts
	SowKey        string // k
	SowKeys       string // sow_keys
	CorrelationID string // x
	Filter        string // filter (f)
	Options       string // opts (o)
	OrderBy       string // orderby (input only; never emitted)
	ClientName    string // client_name
	UserID        string // user_id
	Password      string // pw (auth_key)
	Version       string // version
	MessageType   string // mt
	LeasePeriod   string // lp
	GroupSeq      string // gseq
	Expiration    string // e (expiration), seconds as sent
	Heartbeat     string // heartbeat (legacy; input only)

	Seq    uint64 // s (seq)
	HasSeq bool

	BatchSize int // bs (batch_size)
	TopN      int // top_n
	Length    int // l: payload length of one record in a sow frame
	HasLength bool

	Matches         int // matches
	TopicMatches    int // topic_matches
	RecordsInserted int // records_inserted
	RecordsUpdated  int // records_updated
	RecordsDeleted  int // records_deleted
	RecordsReturned int // records_returned
	HasStats        bool
}

// Reset clears every field so the Header can be reused without allocating.
func (h *Header) Reset() { *h = Header{} }
