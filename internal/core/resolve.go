package core

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/protoext"
)

// Scope says where a field of an effective policy came from.
type Scope uint8

const (
	// ScopeNone: no scope sets the field.
	ScopeNone Scope = iota
	// ScopeDefault: the runtime default policy (WithDefaultPolicy, WithOrigins).
	ScopeDefault
	// ScopeFile: the (protocors.v1.file) option.
	ScopeFile
	// ScopeService: the (protocors.v1.service) option.
	ScopeService
	// ScopeMethod: the (protocors.v1.method) option.
	ScopeMethod
)

func (s Scope) String() string {
	switch s {
	case ScopeDefault:
		return "default"
	case ScopeFile:
		return "file"
	case ScopeService:
		return "service"
	case ScopeMethod:
		return "method"
	default:
		return "none"
	}
}

// Field numbers of corspb.Policy, used to index Effective.Sources.
const (
	FieldEnabled          = 1
	FieldAllowOrigins     = 2
	FieldAllowHeaders     = 3
	FieldExposeHeaders    = 4
	FieldAllowCredentials = 5
	FieldMaxAgeSeconds    = 6
	FieldAllowOriginSets  = 7
	numFields             = 8
)

// Effective is the policy of one method after merging every scope.
type Effective struct {
	// Method is the method the policy governs; nil for a route that no
	// descriptor shows (its name is Names[ScopeMethod]).
	Method protoreflect.MethodDescriptor
	// Policy is the merged policy, nil when no scope supplies one.
	Policy *corspb.Policy
	// Enabled reports whether the method gets CORS handling: some scope
	// supplies a policy and the merged enabled field is not false.
	Enabled bool
	// Sources[n] is the scope that set field number n of Policy.
	Sources [numFields]Scope
	// Names[s] is the full name of the descriptor of scope s ("" for
	// ScopeDefault and ScopeNone): the file path, service or method name.
	Names [ScopeMethod + 1]string
}

// Source returns the scope that set field number n of the policy.
func (e *Effective) Source(n int) Scope {
	if n <= 0 || n >= numFields {
		return ScopeNone
	}
	return e.Sources[n]
}

// SourceName names the descriptor that set field number n: a file path, a
// service or method full name, or "runtime default".
func (e *Effective) SourceName(n int) string {
	s := e.Source(n)
	if s == ScopeDefault {
		return "runtime default"
	}
	return e.Names[s]
}

// Resolver reads policies from descriptors and caches what it read per file
// and service, so resolving every method of a large registry reads each
// option once.
type Resolver struct {
	// Default is the outermost scope; nil for none.
	Default *corspb.Policy

	files    map[protoreflect.FileDescriptor]*corspb.Policy
	services map[protoreflect.ServiceDescriptor]*corspb.Policy
}

// Resolve returns the effective policy of md: the runtime default, then the
// file, service and method options, the innermost scope that sets a field
// winning. A repeated field set (non-empty) at an inner scope replaces the
// outer list.
func (r *Resolver) Resolve(md protoreflect.MethodDescriptor) Effective {
	if r.files == nil {
		r.files = make(map[protoreflect.FileDescriptor]*corspb.Policy)
		r.services = make(map[protoreflect.ServiceDescriptor]*corspb.Policy)
	}
	sd, _ := md.Parent().(protoreflect.ServiceDescriptor)
	fd := md.ParentFile()

	filePolicy, ok := r.files[fd]
	if !ok {
		filePolicy = protoext.Read[*corspb.Policy](fd.Options(), corspb.E_File)
		r.files[fd] = filePolicy
	}
	var servicePolicy *corspb.Policy
	if sd != nil {
		servicePolicy, ok = r.services[sd]
		if !ok {
			servicePolicy = protoext.Read[*corspb.Policy](sd.Options(), corspb.E_Service)
			r.services[sd] = servicePolicy
		}
	}
	methodPolicy := protoext.Read[*corspb.Policy](md.Options(), corspb.E_Method)

	var serviceName string
	if sd != nil {
		serviceName = string(sd.FullName())
	}
	e := Merge(
		Layer{ScopeDefault, "", r.Default},
		Layer{ScopeFile, fd.Path(), filePolicy},
		Layer{ScopeService, serviceName, servicePolicy},
		Layer{ScopeMethod, string(md.FullName()), methodPolicy},
	)
	e.Method = md
	return e
}

// Layer is the policy one scope sets (nil for none), and the name of the
// descriptor or route that carries it.
type Layer struct {
	Scope  Scope
	Name   string
	Policy *corspb.Policy
}

// Merge merges layers, outermost first: for each field the last layer that
// sets it wins, and a repeated field set (non-empty) replaces the outer
// list; allow_origins and allow_origin_sets count as one field. Enabled is true when some layer supplies a policy and the merged
// enabled field is not false.
func Merge(layers ...Layer) Effective {
	var e Effective
	merged := &corspb.Policy{}
	for _, l := range layers {
		e.Names[l.Scope] = l.Name
		p := l.Policy
		if p == nil {
			continue
		}
		e.Policy = merged
		if p.Enabled != nil {
			merged.Enabled = proto.Bool(p.GetEnabled())
			e.Sources[FieldEnabled] = l.Scope
		}
		// allow_origins and allow_origin_sets are one group: the scope that
		// sets either supplies both.
		if len(p.AllowOrigins) > 0 || len(p.AllowOriginSets) > 0 {
			merged.AllowOrigins = p.AllowOrigins
			merged.AllowOriginSets = p.AllowOriginSets
			e.Sources[FieldAllowOrigins] = l.Scope
			e.Sources[FieldAllowOriginSets] = l.Scope
		}
		if len(p.AllowHeaders) > 0 {
			merged.AllowHeaders = p.AllowHeaders
			e.Sources[FieldAllowHeaders] = l.Scope
		}
		if len(p.ExposeHeaders) > 0 {
			merged.ExposeHeaders = p.ExposeHeaders
			e.Sources[FieldExposeHeaders] = l.Scope
		}
		if p.AllowCredentials != nil {
			merged.AllowCredentials = proto.Bool(p.GetAllowCredentials())
			e.Sources[FieldAllowCredentials] = l.Scope
		}
		if p.MaxAgeSeconds != nil {
			merged.MaxAgeSeconds = proto.Uint32(p.GetMaxAgeSeconds())
			e.Sources[FieldMaxAgeSeconds] = l.Scope
		}
	}
	e.Enabled = e.Policy != nil && (e.Policy.Enabled == nil || e.Policy.GetEnabled())
	return e
}
