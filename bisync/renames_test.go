package bisync_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/ferry-sync/ferry/bisync"
)

// TestRenamedFolderIsMovedNotCopied: renaming a folder of attachments on
// one side renames it on the other, transferring no content, and counts as
// no deletion for the safety checks.
func TestRenamedFolderIsMovedNotCopied(t *testing.T) {
	r1, r2, p := newPair(t)
	for i := range 20 {
		r1.WriteFile(fmt.Sprintf("attachments/img%02d.png", i), []byte(fmt.Sprintf("image %d", i)), t0)
	}
	r1.WriteFile("note.md", []byte("note"), t0)
	sync(t, p, nil) // the copies give the history both sides' hashes
	for i := range 20 {
		old := fmt.Sprintf("attachments/img%02d.png", i)
		content, _ := r1.ReadFile(old)
		r1.Remove(old)
		r1.WriteFile(fmt.Sprintf("media/img%02d.png", i), content, t0)
	}
	r2.ResetCalls()
	res := sync(t, p, nil) // 20 of 21 files "deleted": over --max-delete unless moves are recognised
	moves := 0
	for _, a := range res.Plan {
		if a.Op == bisync.OpMove2 {
			moves++
		}
	}
	if moves != 20 {
		t.Errorf("plan has %d moves, want 20: %v", moves, planOps(res))
	}
	if n := r2.Calls("Put"); n > 1 { // one Put may write .ferry/deletions
		t.Errorf("%d Puts on path2: a rename transferred content", n)
	}
	if got, want := userFiles(r2), userFiles(r1); !reflect.DeepEqual(got, want) {
		t.Errorf("path2 = %v, want %v", got, want)
	}
	if res := sync(t, p, nil); len(res.Plan) != 0 {
		t.Errorf("the run after the rename plans %v", planOps(res))
	}
}

// TestRenameWithEditIsNotAMove: a renamed file whose content also changed is
// a deletion and a new file, as before.
func TestRenameWithEditIsNotAMove(t *testing.T) {
	r1, r2, p := newPair(t)
	r1.WriteFile("a.md", []byte("a"), t0)
	r1.WriteFile("b.md", []byte("b"), t0)
	r1.WriteFile("c.md", []byte("c"), t0)
	sync(t, p, nil)
	r1.Remove("a.md")
	r1.WriteFile("renamed.md", []byte("A"), t0)
	got := planOps(sync(t, p, nil))
	want := []string{"delete on 2 a.md", "copy 1->2 renamed.md"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan %v, want %v", got, want)
	}
	if _, err := r2.ReadFile("renamed.md"); err != nil {
		t.Error(err)
	}
}
