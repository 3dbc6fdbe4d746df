package main

import (
	"slices"
	"testing"
)

// Two rows over four rounds take their turns ABBA BAAB: their turns then sit at the same
// mean time and the same mean squared time, so a drift that is steady or bends once weighs
// on both alike. With more rows only the mean time is the same for all.
func TestTurnOrderIsThueMorse(t *testing.T) {
	var got []int
	for round := range 4 {
		for j := range 2 {
			got = append(got, turnOrder(round, j, 2))
		}
	}
	if want := []int{0, 1, 1, 0, 1, 0, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("turns %v, want %v", got, want)
	}
	for _, n := range []int{2, 3, 5} {
		var sum, sq [5]int
		step := 0
		for round := range 4 {
			for j := range n {
				i := turnOrder(round, j, n)
				sum[i] += step
				sq[i] += step * step
				step++
			}
		}
		for i := 1; i < n; i++ {
			if sum[i] != sum[0] || n == 2 && sq[i] != sq[0] {
				t.Errorf("%d rows: row %d's turns at Σt=%d Σt²=%d, row 0's at %d %d", n, i, sum[i], sq[i], sum[0], sq[0])
			}
		}
	}
}

func TestBatchesKeepEnginesApart(t *testing.T) {
	sets := []dataset{{engine: sqlite}, {engine: sqlite}, {engine: postgres}, {engine: postgres}}
	for together, want := range map[bool][]int{true: {2, 2}, false: {1, 1, 1, 1}} {
		var got []int
		for _, b := range batches(sets, together) {
			got = append(got, len(b))
			for _, ds := range b {
				if ds.engine != b[0].engine {
					t.Errorf("together=%v: a batch mixes engines", together)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("together=%v: batch sizes %v, want %v", together, got, want)
		}
	}
}

func TestOnlyTakesSeveralNames(t *testing.T) {
	post := []row{{scenario: "POST /api/products, usage counted"}, {scenario: "POST /api/products, usage not counted"}}
	deep := []row{{scenario: "GET deep page"}}
	first := []row{{scenario: "GET first page"}}
	c := config{only: "usage counted|deep"}
	for g, want := range map[*[]row]bool{&post: true, &deep: true, &first: false} {
		if got := c.wants(*g); got != want {
			t.Errorf("-only %q wants %q: %v, want %v", c.only, (*g)[0].scenario, got, want)
		}
	}
}
