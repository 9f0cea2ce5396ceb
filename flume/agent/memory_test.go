package agent

// The memory channel, for the tests that need a channel whose takes wait.
import _ "ampsflume/channels/memory"
