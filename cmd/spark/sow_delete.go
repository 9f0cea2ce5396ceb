package main

import (
	"context"
	"fmt"
	"time"
)

func runSowDelete(ctx context.Context, e *env, o *opts) error {
	if o.filter != "" && o.file != "" {
		return usagef("give -filter or -file, not both")
	}
	c, _, err := connect(ctx, o)
	if err != nil {
		return err
	}
	defer c.Close()
	start := time.Now()
	total := 0
	if o.filter != "" {
		if total, err = c.SowDelete(ctx, o.topic, o.filter); err != nil {
			return err
		}
	} else {
		in, err := openInput(e, o.file)
		if err != nil {
			return err
		}
		defer in.Close()
		err = messages(in, byte(o.delimiter), func(msg []byte) error {
			n, err := c.SowDeleteByData(ctx, o.topic, msg)
			total += n
			return err
		})
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "Deleted %d records in %dms.\n", total, time.Since(start).Milliseconds())
	return nil
}
