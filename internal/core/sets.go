package core

import (
	"context"
	"log/slog"
	"slices"
	"sync"
)

// nearSetName returns the bound set name closest to name when it is close
// enough to be the one meant ("admin" for "admins", "partner" for
// "parnter"): at most two edits, and at most a third of the longer name, so
// short unrelated names ("qa", "ux") are not offered. "" when none is.
func nearSetName(name string, sets map[string][]string) string {
	best, bestD := "", 3
	for bound := range sets {
		d := editDistance(name, bound)
		if d > 2 || 3*d > max(len(name), len(bound)) {
			continue
		}
		if d < bestD || d == bestD && bound < best {
			best, bestD = bound, d
		}
	}
	return best
}

// logOriginSets logs the binding mistakes that are not errors: a set bound
// to no origins, which allows nobody (an unset environment variable,
// typically), and a set bound but named by no enabled RPC the middleware
// serves, which is often a misspelling of the name the proto uses. Neither
// fails New: one deployment's bindings may serve several servers, and an
// empty list may be deliberate in one environment. Nothing is logged
// without WithLogger or when New fails (its error says more).
//
// Each warning is logged once per logger and process: both middlewares
// usually share their options, and a server that reloads its origins with
// Reconfigure every few seconds must not repeat the same line each time.
func (s *Settings) logOriginSets(problems Problems) {
	if s.Logger == nil || len(problems) > 0 || len(s.OriginOptions.Sets) == 0 {
		return
	}
	names := make([]string, 0, len(s.OriginOptions.Sets))
	for name := range s.OriginOptions.Sets {
		names = append(names, name)
	}
	slices.Sort(names)
	ctx := context.Background()
	for _, name := range names {
		if len(s.OriginOptions.Sets[name]) == 0 && firstSetWarning(s.Logger, "empty", name) {
			s.Logger.LogAttrs(ctx, slog.LevelWarn, "protocors: origin set bound to no origins",
				slog.String("set", name),
				slog.String("detail", `protocors.WithOriginSet("`+name+`") was given no origins (an unset variable?), so the set allows nobody: the RPCs that name it get only their other origins`))
		}
		if s.OriginOptions.named != nil && !s.OriginOptions.named[name] && firstSetWarning(s.Logger, "unused", name) {
			s.Logger.LogAttrs(ctx, slog.LevelWarn, "protocors: origin set bound but named by no RPC",
				slog.String("set", name),
				slog.String("detail", `no CORS-enabled RPC this middleware serves names "`+name+`" in allow_origin_sets, so its origins are allowed nowhere: check the spelling against the proto options (or ignore this if the binding serves another server)`))
		}
	}
}

// setWarnings holds the origin-set warnings logged so far, by logger, kind
// and set name. It grows with the distinct set names a process binds.
var setWarnings sync.Map

type setWarning struct {
	logger     *slog.Logger
	kind, name string
}

// firstSetWarning reports whether the warning of kind about set name has
// not been logged to logger yet, and records it.
func firstSetWarning(logger *slog.Logger, kind, name string) bool {
	_, seen := setWarnings.LoadOrStore(setWarning{logger, kind, name}, struct{}{})
	return !seen
}
