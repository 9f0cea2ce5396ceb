//go:build !race

package buildbin

const raceEnabled = false
