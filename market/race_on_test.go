//go:build race

package market_test

// raceOn: the race detector slows jobs ~10x; timing-sensitive tests widen
// their waits.
const raceOn = true

// raceSlow stretches the deadlines of tests that wait them out.
const raceSlow = 10
