package amps

import (
	"errors"
	"testing"

	"ampsflume/amps/wire"
)

func TestReasonError(t *testing.T) {
	tests := []struct {
		reason string
		want   error
	}{
		{"auth failure", ErrAuthFailure},
		{"duplicate logon attempt", ErrDuplicateLogon},
		{"logon required", ErrLogonRequired},
		{"name in use", ErrNameInUse},
		{"no client name", ErrNoClientName},
		{"not entitled", ErrNotEntitled},
		{"bad filter", ErrBadFilter},
		{"bad regex topic", ErrBadRegexTopic},
		{"regex topic not supported", ErrRegexTopicNotSupported},
		{"invalid topic", ErrInvalidTopic},
		{"invalid topic or filter", ErrInvalidTopicOrFilter},
		{"no topic or filter", ErrNoTopicOrFilter},
		{"no filter or bookmark", ErrNoFilterOrBookmark},
		{"invalid bookmark", ErrInvalidBookmark},
		{"txn replay failed", ErrTxnReplayFailed},
		{"invalid options", ErrInvalidOptions},
		{"invalid orderby", ErrInvalidOrderBy},
		{"invalid order by clause", ErrInvalidOrderBy},
		{"orderby required", ErrOrderByRequired},
		{"orderby too large", ErrOrderByTooLarge},
		{"projection clause too large", ErrProjectionTooLarge},
		{"bad sow key", ErrBadSowKey},
		{"invalid message type", ErrInvalidMessageType},
		{"invalid subid", ErrInvalidSubID},
		{"subid in use", ErrSubIDInUse},
		{"not supported", ErrNotSupported},
		{"sow_delete command only supports one of: filter, sow_keys, bookmark, or data", ErrSowDeleteConflict},
		{"sow store failed", ErrSowStoreFailed},
		{"tx store failure", ErrTxStoreFailure},
		{"duplicate", ErrDuplicate},
		{"subscription already exists", ErrSubscriptionExists},
		{"authentication disabled", ErrAuthDisabled},
		{"no topic", ErrNoTopic},
		{"something else entirely", ErrCommand},
		{"", ErrCommand},
		{"Bad Filter", ErrCommand}, // AMPS strings are exact
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			if got := ReasonError(tt.reason); got != tt.want {
				t.Fatalf("ReasonError(%q) = %v, want %v", tt.reason, got, tt.want)
			}
			err := error(newCommandError("subscribe", "7", "failure", tt.reason))
			if !errors.Is(err, tt.want) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tt.want)
			}
			var ce *CommandError
			if !errors.As(err, &ce) || ce.Reason != tt.reason || ce.CommandID != "7" {
				t.Fatalf("errors.As: %+v", ce)
			}
		})
	}
}

func TestRetryStatusIsErrRetry(t *testing.T) {
	err := newCommandError("logon", "1", "retry", "auth failure")
	if !errors.Is(err, ErrRetry) {
		t.Fatalf("%v is not ErrRetry", err)
	}
}

func TestMessageError(t *testing.T) {
	tests := []struct {
		h    wire.Header
		want error
	}{
		{wire.Header{Command: "ack", AckType: "processed", Status: "success"}, nil},
		{wire.Header{Command: "ack", AckType: "completed"}, nil},
		{wire.Header{Command: "ack", AckType: "processed", Status: "failure", Reason: "bad filter"}, ErrBadFilter},
		{wire.Header{Command: "p", Status: "failure", Reason: "bad filter"}, nil},
	}
	for _, tt := range tests {
		err := newMessage(&tt.h, nil).Error()
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%+v: Error() = %v, want %v", tt.h, err, tt.want)
		}
	}
}
