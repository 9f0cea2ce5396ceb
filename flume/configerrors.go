package flume

import "errors"

// ConfigErrors collects the problems found while reading a component's
// configuration, so that a factory reports every bad key in one run instead
// of stopping at the first: a user with three typos fixes them together.
// The zero value is ready to use.
//
// The usual shape of a factory's parsing:
//
//	var errs flume.ConfigErrors
//	var err error
//	cfg.Capacity, err = ctx.Int("capacity", 100)
//	errs.Add(err)
//	cfg.KeepAlive, err = ctx.Duration("keep-alive", 3*time.Second, time.Second)
//	errs.Add(err)
//	return cfg, errs.Err()
//
// A getter that fails returns the key's default, so later checks keep
// working on a sensible value; a check that depends on a key that failed
// should be skipped (Add reports whether it recorded something) so that one
// mistake is not reported twice.
type ConfigErrors struct {
	errs []error
}

// Add records err unless it is nil, and reports whether it recorded it.
func (c *ConfigErrors) Add(err error) bool {
	if err == nil {
		return false
	}
	c.errs = append(c.errs, err)
	return true
}

// Len is the number of errors recorded.
func (c *ConfigErrors) Len() int { return len(c.errs) }

// Err returns nil when nothing was recorded, the error itself when one was
// (so that errors.As and type assertions see it as before), and otherwise
// errors.Join of every error in the order they were added. The engine turns
// each joined *ConfigError into one reported problem.
func (c *ConfigErrors) Err() error {
	switch len(c.errs) {
	case 0:
		return nil
	case 1:
		return c.errs[0]
	}
	return errors.Join(c.errs...)
}

// KeyFailed reports whether err, a *ConfigError or several joined (at any
// depth), has one about key. A check that compares key with something else,
// such as a batch size with a channel's transactionCapacity, skips it then:
// the key holds its default, and the user has already been told.
func KeyFailed(err error, key string) bool {
	switch e := err.(type) {
	case nil:
		return false
	case *ConfigError:
		return e.Key == key
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			if KeyFailed(x, key) {
				return true
			}
		}
		return false
	case interface{ Unwrap() error }:
		return KeyFailed(e.Unwrap(), key)
	}
	return false
}
