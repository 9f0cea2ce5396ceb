// Package poll is the tests' way of waiting for something to happen: poll a
// condition until it holds or a generous deadline passes, instead of
// sleeping for a guessed time. The deadline only bounds a broken run; a
// correct one returns as soon as the condition holds, so tests stay fast and
// assert nothing about timing.
package poll
