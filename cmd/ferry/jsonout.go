package main

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/ferry-sync/ferry/bisync"
)

// jsonSchema is the version of the --json event format, in every event's
// "schema" field. It changes only when a field changes meaning or goes
// away; new fields and new events do not change it. docs/json.md
// describes it.
const jsonSchema = 1

// jsonEvents writes a sync's events as JSON, one object a line, for
// scripts: what the run does as it does it, then a summary. Nothing else
// goes to its writer (stdout): diagnostics stay on stderr.
type jsonEvents struct {
	mu      sync.Mutex // the listing hook calls from two goroutines
	enc     *json.Encoder
	now     func() time.Time
	start   time.Time
	summary bool // the summary is written: nothing may follow it
}

func newJSONEvents(w io.Writer) *jsonEvents {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // paths with & < > stay readable
	return &jsonEvents{enc: enc, now: time.Now, start: time.Now()}
}

// eventHead is the start of every event.
type eventHead struct {
	Schema int    `json:"schema"`
	Event  string `json:"event"`
	Time   string `json:"time"` // RFC 3339, UTC, with fractions of a second
}

type startEvent struct {
	eventHead
	Path1  string `json:"path1"`
	Path2  string `json:"path2"`
	Mode   string `json:"mode"`
	DryRun bool   `json:"dry_run"`
	Resync bool   `json:"resync"`
}

type listedEvent struct {
	eventHead
	Side  int `json:"side"`
	Files int `json:"files"`
}

type actionEvent struct {
	eventHead
	Path     string `json:"path"`
	From     string `json:"from,omitempty"`
	Op       string `json:"op"`
	Decision int    `json:"decision"`
	Reason   string `json:"reason"`
	Bytes    int64  `json:"bytes"`
	Winner   int    `json:"winner,omitempty"`
	Error    string `json:"error,omitempty"`
}

type actionCounts struct {
	Planned int `json:"planned"`
	Done    int `json:"done"`
	Failed  int `json:"failed"`
}

type summaryEvent struct {
	eventHead
	OK              bool           `json:"ok"`
	ExitCode        int            `json:"exit_code"`
	Error           string         `json:"error,omitempty"`
	DryRun          bool           `json:"dry_run"`
	FirstRun        bool           `json:"first_run"`
	Committed       bool           `json:"committed"`
	Recovered       bool           `json:"recovered"`
	FiltersChanged  bool           `json:"filters_changed"`
	RunID           string         `json:"run_id"`
	DurationSeconds float64        `json:"duration_seconds"`
	Actions         actionCounts   `json:"actions"`
	Conflicts       int            `json:"conflicts"`
	PlannedByOp     map[string]int `json:"planned_by_op"`
	DoneByOp        map[string]int `json:"done_by_op"`
	BytesToPath1    int64          `json:"bytes_to_path1"`
	BytesToPath2    int64          `json:"bytes_to_path2"`
	Warnings        []string       `json:"warnings"`
}

func (j *jsonEvents) head(event string) eventHead {
	return eventHead{Schema: jsonSchema, Event: event, Time: j.now().UTC().Format(time.RFC3339Nano)}
}

// emit writes one event line. An event after the summary is dropped, so
// the summary is always the last line.
func (j *jsonEvents) emit(v any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.summary {
		return
	}
	// An event that cannot be written (stdout closed) is lost; the run
	// goes on, and its exit status still says how it went.
	_ = j.enc.Encode(v)
}

func (j *jsonEvents) startRun(name1, name2 string, o bisync.Options) {
	j.emit(startEvent{eventHead: j.head("start"), Path1: name1, Path2: name2,
		Mode: o.Mode.String(), DryRun: o.DryRun, Resync: o.Resync})
}

func (j *jsonEvents) action(event string, a bisync.Action, err error) {
	ev := actionEvent{eventHead: j.head(event), Path: a.Path, From: a.From, Op: a.Op.String(),
		Decision: a.Decision, Reason: a.Reason, Bytes: a.Size, Winner: a.Winner}
	if err != nil {
		ev.Error = err.Error()
	}
	j.emit(ev)
}

// hook makes o report its listing, its plan and each finished action as
// events, besides whatever o reports already.
func (j *jsonEvents) hook(o *bisync.Options) {
	prevListed, prevPlanned, prevProgress := o.Listed, o.Planned, o.Progress
	o.Listed = func(side, files int, done bool) {
		if done {
			j.emit(listedEvent{eventHead: j.head("listed"), Side: side, Files: files})
		}
		if prevListed != nil {
			prevListed(side, files, done)
		}
	}
	o.Planned = func(plan []bisync.Action) {
		for _, a := range plan {
			j.action("planned", a, nil)
		}
		if prevPlanned != nil {
			prevPlanned(plan)
		}
	}
	o.Progress = func(a bisync.Action, err error) {
		if err != nil {
			j.action("failed", a, err)
		} else {
			j.action("done", a, nil)
		}
		if prevProgress != nil {
			prevProgress(a, err)
		}
	}
}

// finish writes the summary of a run that returned res (nil when it
// stopped before planning) and ends with err, the error the command fails
// with (nil on success).
func (j *jsonEvents) finish(res *bisync.Result, dryRun bool, err error) {
	s := summaryEvent{
		eventHead:       j.head("summary"),
		OK:              err == nil,
		ExitCode:        exitCode(err),
		DryRun:          dryRun,
		DurationSeconds: j.now().Sub(j.start).Seconds(),
		PlannedByOp:     map[string]int{},
		DoneByOp:        map[string]int{},
		Warnings:        []string{},
	}
	if err != nil {
		s.Error = err.Error()
	}
	if res != nil {
		s.FirstRun, s.Committed, s.Recovered = res.FirstRun, res.Committed, res.Recovered
		s.FiltersChanged, s.RunID = res.FiltersChanged, res.RunID
		s.BytesToPath1, s.BytesToPath2 = res.Bytes[0], res.Bytes[1]
		s.Warnings = append(s.Warnings, res.Warnings...)
		for _, a := range res.Plan {
			if a.Op == bisync.OpNothing {
				continue
			}
			s.PlannedByOp[a.Op.String()]++
			s.Actions.Planned++
			if a.Op == bisync.OpConflict {
				s.Conflicts++
			}
		}
		for op, n := range res.Done {
			if op != bisync.OpNothing && n > 0 {
				s.DoneByOp[op.String()] += n
				s.Actions.Done += n
			}
		}
		s.Actions.Failed = len(res.Failed)
	}
	j.emit(s)
	j.mu.Lock()
	j.summary = true
	j.mu.Unlock()
}
