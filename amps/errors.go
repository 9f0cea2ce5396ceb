package amps

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors for the reason strings AMPS defines on failed acks. A
// *CommandError wraps the matching one, so test with errors.Is.
var (
	ErrAuthFailure            = errors.New("amps: auth failure")
	ErrDuplicateLogon         = errors.New("amps: duplicate logon attempt")
	ErrLogonRequired          = errors.New("amps: logon required")
	ErrNameInUse              = errors.New("amps: name in use")
	ErrNoClientName           = errors.New("amps: no client name")
	ErrNotEntitled            = errors.New("amps: not entitled")
	ErrBadFilter              = errors.New("amps: bad filter")
	ErrBadRegexTopic          = errors.New("amps: bad regex topic")
	ErrRegexTopicNotSupported = errors.New("amps: regex topic not supported")
	ErrInvalidTopic           = errors.New("amps: invalid topic")
	ErrInvalidTopicOrFilter   = errors.New("amps: invalid topic or filter")
	ErrNoTopicOrFilter        = errors.New("amps: no topic or filter")
	ErrNoFilterOrBookmark     = errors.New("amps: no filter or bookmark")
	ErrInvalidBookmark        = errors.New("amps: invalid bookmark")
	ErrTxnReplayFailed        = errors.New("amps: transaction log replay failed")
	ErrInvalidOptions         = errors.New("amps: invalid options")
	ErrInvalidOrderBy         = errors.New("amps: invalid order-by")
	ErrOrderByRequired        = errors.New("amps: orderby required")
	ErrOrderByTooLarge        = errors.New("amps: orderby too large")
	ErrProjectionTooLarge     = errors.New("amps: projection clause too large")
	ErrBadSowKey              = errors.New("amps: bad sow key")
	ErrInvalidMessageType     = errors.New("amps: invalid message type")
	ErrInvalidSubID           = errors.New("amps: invalid subid")
	ErrSubIDInUse             = errors.New("amps: subid in use")
	ErrNotSupported           = errors.New("amps: not supported")
	ErrSowDeleteConflict      = errors.New("amps: sow_delete takes only one of filter, keys, bookmark or data")
	ErrSowStoreFailed         = errors.New("amps: sow store failed")
	ErrTxStoreFailure         = errors.New("amps: transaction store failure")
	ErrDuplicate              = errors.New("amps: duplicate")
	ErrSubscriptionExists     = errors.New("amps: subscription already exists")
	ErrAuthDisabled           = errors.New("amps: authentication disabled")
	ErrNoTopic                = errors.New("amps: no topic")
	// ErrRetry is wrapped when the server answers status=retry (an
	// authenticator challenge), which this client does not continue.
	ErrRetry = errors.New("amps: server asked to retry")
	// ErrCommand is wrapped by a *CommandError whose reason is not one of the
	// strings above.
	ErrCommand = errors.New("amps: command failed")
)

// Client-side errors.
var (
	ErrNotConnected     = errors.New("amps: not connected")
	ErrAlreadyConnected = errors.New("amps: already connected")
	ErrClosed           = errors.New("amps: client closed")
	ErrDisconnected     = errors.New("amps: disconnected")
	ErrHeartbeatTimeout = errors.New("amps: no traffic from server within the heartbeat timeout")
	ErrStreamClosed     = errors.New("amps: stream closed")
)

// reasons maps exact AMPS reason strings to sentinels.
var reasons = map[string]error{
	"auth failure":                ErrAuthFailure,
	"duplicate logon attempt":     ErrDuplicateLogon,
	"logon required":              ErrLogonRequired,
	"name in use":                 ErrNameInUse,
	"no client name":              ErrNoClientName,
	"not entitled":                ErrNotEntitled,
	"bad filter":                  ErrBadFilter,
	"bad regex topic":             ErrBadRegexTopic,
	"regex topic not supported":   ErrRegexTopicNotSupported,
	"invalid topic":               ErrInvalidTopic,
	"invalid topic or filter":     ErrInvalidTopicOrFilter,
	"no topic or filter":          ErrNoTopicOrFilter,
	"no filter or bookmark":       ErrNoFilterOrBookmark,
	"invalid bookmark":            ErrInvalidBookmark,
	"txn replay failed":           ErrTxnReplayFailed,
	"invalid options":             ErrInvalidOptions,
	"orderby required":            ErrOrderByRequired,
	"orderby too large":           ErrOrderByTooLarge,
	"projection clause too large": ErrProjectionTooLarge,
	"bad sow key":                 ErrBadSowKey,
	"invalid message type":        ErrInvalidMessageType,
	"invalid subid":               ErrInvalidSubID,
	"subid in use":                ErrSubIDInUse,
	"not supported":               ErrNotSupported,
	"sow store failed":            ErrSowStoreFailed,
	"tx store failure":            ErrTxStoreFailure,
	"duplicate":                   ErrDuplicate,
	"subscription already exists": ErrSubscriptionExists,
	"authentication disabled":     ErrAuthDisabled,
	"no topic":                    ErrNoTopic,
}

// ReasonError returns the sentinel for an AMPS reason string, or ErrCommand
// when the reason is not one AMPS defines.
func ReasonError(reason string) error {
	if err, ok := reasons[reason]; ok {
		return err
	}
	switch {
	case strings.HasPrefix(reason, "sow_delete command only supports one of"):
		return ErrSowDeleteConflict
	case strings.HasPrefix(reason, "invalid or"):
		// AMPS words the order-by failure in several ways, all starting so.
		return ErrInvalidOrderBy
	}
	return ErrCommand
}

// CommandError is a command the server refused (or asked to retry).
type CommandError struct {
	Command   string // the command's name, e.g. "subscribe"
	CommandID string
	Status    string // failure or retry
	Reason    string // the server's reason, verbatim
	kind      error
}

func newCommandError(cmd, cid, status, reason string) *CommandError {
	kind := ReasonError(reason)
	if status == "retry" {
		kind = ErrRetry
	}
	return &CommandError{Command: cmd, CommandID: cid, Status: status, Reason: reason, kind: kind}
}

func (e *CommandError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = "no reason given"
	}
	return fmt.Sprintf("amps: %s (cid %s) %s: %s", e.Command, e.CommandID, e.Status, reason)
}

// Unwrap returns the sentinel the reason maps to (ErrCommand when none).
func (e *CommandError) Unwrap() error { return e.kind }
