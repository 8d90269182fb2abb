package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/protocors/protocors/examples/icecream/shop"
)

// fileConfig is the -config file: the deployment's origins, what a
// Kubernetes ConfigMap mounted as a file would hold.
//
//	{
//	  "origins": ["https://shop.example.com"],
//	  "origin_sets": {"factory": ["https://factory.example.com"]}
//	}
//
// A key the file sets replaces the value of the flag or environment
// variable (origins: -origins; origin_sets.factory: -factory-origins); a key
// it leaves out keeps that value. "origins": [] means the page's own origin,
// as no -origins does; a set bound to [] allows nobody. Unknown keys and set
// names the proto does not use are errors, so a typo cannot silently leave
// a set empty.
type fileConfig struct {
	Origins    []string            `json:"origins"`
	OriginSets map[string][]string `json:"origin_sets"`
}

func parseFile(data []byte) (fileConfig, error) {
	var fc fileConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return fc, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fc, errors.New("data after the JSON object")
	}
	for name := range fc.OriginSets {
		if !slices.Contains(shop.OriginSets, name) {
			return fc, fmt.Errorf("origin_sets: the proto names no set %q (its sets: %s)", name, strings.Join(shop.OriginSets, ", "))
		}
	}
	return fc, nil
}

// reloader reads the -config file over the flags' values and applies the
// result to the running servers.
type reloader struct {
	path    string
	origins []string            // from -origins or the environment
	sets    map[string][]string // from -factory-origins or the environment
	logger  *slog.Logger

	last    []byte // the content last read, applied or refused
	readErr string // the last read error logged, so a missing file is logged once
}

// load reads the file and returns the configuration it gives, merged over
// the flags'.
func (r *reloader) load() (origins []string, sets map[string][]string, err error) {
	data, err := os.ReadFile(r.path)
	if err != nil {
		return nil, nil, fmt.Errorf("-config: %w", err)
	}
	return r.merge(data)
}

// merge parses the file's content and merges it over the flags' values.
func (r *reloader) merge(data []byte) (origins []string, sets map[string][]string, err error) {
	r.last = data
	fc, err := parseFile(data)
	if err != nil {
		return nil, nil, fmt.Errorf("-config %s: %w", r.path, err)
	}
	origins, sets = r.origins, make(map[string][]string)
	if fc.Origins != nil {
		origins = fc.Origins
	}
	maps.Copy(sets, r.sets)
	maps.Copy(sets, fc.OriginSets)
	return origins, sets, nil
}

// reload applies the file to s if its content changed since the last read,
// or in any case when forced (SIGHUP). A file that cannot be read, parsed or
// validated is logged and the configuration in force is kept.
func (r *reloader) reload(s *shop.Servers, trigger string, force bool) {
	data, err := os.ReadFile(r.path)
	if err != nil {
		if msg := err.Error(); force || msg != r.readErr {
			r.readErr = msg
			r.logger.Error("origins not reloaded, keeping the previous ones", "trigger", trigger, "err", err)
		}
		return
	}
	r.readErr = ""
	if !force && bytes.Equal(data, r.last) {
		return
	}
	origins, sets, err := r.merge(data)
	if err == nil {
		before, beforeSets := s.Authorized()
		if err = s.Reconfigure(origins, sets); err == nil {
			after, afterSets := s.Authorized()
			attrs := append([]any{"trigger", trigger, "file", r.path}, changes(before, after, beforeSets, afterSets)...)
			r.logger.Info("origins reloaded", attrs...)
			return
		}
	}
	r.logger.Error("origins not reloaded, keeping the previous ones", "trigger", trigger, "err", err)
}

// watch reloads the file on SIGHUP and whenever its content changes, until
// ctx is done.
//
// It polls: every interval it reads the file and compares the content with
// the last read. A file watch (fsnotify, inotify) is unreliable here: a
// Kubernetes ConfigMap mounted as a volume is updated by writing a new
// timestamped directory and atomically switching the ..data symlink the
// file is reached through, so the file itself is never written and a watch
// on it sees nothing, or loses track of it (editors that save by renaming a
// new file over the old do the same). Reading a small file every two
// seconds costs nothing and sees every kind of update, and a file caught
// half written is refused and read again at the next tick. (The kubelet
// itself takes up to a minute or so to project a ConfigMap change.)
func (r *reloader) watch(ctx context.Context, s *shop.Servers, every time.Duration, hup <-chan os.Signal) {
	if every <= 0 {
		every = 2 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload(s, "SIGHUP", true)
		case <-tick.C:
			r.reload(s, "file changed", false)
		}
	}
}

// changes describes, as slog attributes, the origins added and removed,
// for the origins and for each set. None: "unchanged".
func changes(before, after []string, beforeSets, afterSets map[string][]string) []any {
	var attrs []any
	diff := func(key string, old, new []string) {
		if added := minus(new, old); len(added) > 0 {
			attrs = append(attrs, key+".added", added)
		}
		if removed := minus(old, new); len(removed) > 0 {
			attrs = append(attrs, key+".removed", removed)
		}
	}
	diff("origins", before, after)
	names := maps.Clone(beforeSets)
	maps.Copy(names, afterSets)
	for _, name := range slices.Sorted(maps.Keys(names)) {
		diff("origin_sets."+name, beforeSets[name], afterSets[name])
	}
	if attrs == nil {
		attrs = []any{"unchanged", true}
	}
	return attrs
}

// minus returns the items of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
