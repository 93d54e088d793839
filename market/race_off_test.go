//go:build !race

package market_test

const raceOn = false

const raceSlow = 1
