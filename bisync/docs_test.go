package bisync

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestAlgorithmDocMatchesTables keeps docs/algorithm.md and the decision
// tables the same thing: every row of the doc's cell list is a cell of the
// code, and every cell of the code is a row of the doc.
func TestAlgorithmDocMatchesTables(t *testing.T) {
	f, err := os.Open("../docs/algorithm.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cols := strings.Split(strings.Trim(line, "| "), "|")
		if len(cols) < 5 {
			continue
		}
		for i := range cols {
			cols[i] = strings.TrimSpace(cols[i])
		}
		if _, err := ParseMode(cols[0]); err != nil {
			continue // another table
		}
		doc[strings.Join(cols[:5], " | ")] = true
	}
	code := map[string]bool{}
	for mode, cells := range tables {
		for _, c := range cells {
			code[docRow(mode, c)] = true
		}
	}
	for row := range code {
		if !doc[row] {
			t.Errorf("docs/algorithm.md lacks the row | %s |", row)
		}
	}
	for row := range doc {
		if !code[row] {
			t.Errorf("docs/algorithm.md has a row the code does not: | %s |", row)
		}
	}
}

func docRow(mode Mode, c cell) string {
	id := "--"
	if c.id != 0 {
		id = fmt.Sprintf("%02d", c.id)
	}
	return strings.Join([]string{mode.String(), c.one.String(), c.two.String(), id, c.op.String()}, " | ")
}
