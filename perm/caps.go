package perm

import (
	"strconv"
	"strings"
)

// Resource is something a capability reads or writes.
type Resource uint8

// The resources, in a fixed order: each one owns two bits of Caps, so the
// order is part of the encoding and new resources go before numResources.
const (
	AccountSettings Resource = iota
	Billing
	Users // members and invitations
	Licenses
	Groups // groups and the grants they hold
	Projects
	ServiceTokens
	IPRestrictions
	AuditLog
	Connections
	Environments
	Jobs // jobs and runs
	Webhooks
	Metadata // the Discovery (metadata) API
	SemanticLayer
	Credentials // a user's own development credentials per project
	numResources
)

// Caps holds two bits per resource; make sure they still fit.
const _ = uint64(1) << (2*numResources - 1)

var resourceNames = [numResources]string{
	AccountSettings: "account_settings",
	Billing:         "billing",
	Users:           "users",
	Licenses:        "licenses",
	Groups:          "groups",
	Projects:        "projects",
	ServiceTokens:   "service_tokens",
	IPRestrictions:  "ip_restrictions",
	AuditLog:        "audit_log",
	Connections:     "connections",
	Environments:    "environments",
	Jobs:            "jobs",
	Webhooks:        "webhooks",
	Metadata:        "metadata",
	SemanticLayer:   "semantic_layer",
	Credentials:     "credentials",
}

// String returns the resource's snake_case name, e.g. "account_settings".
func (r Resource) String() string {
	if r >= numResources {
		return "resource(" + strconv.Itoa(int(r)) + ")"
	}
	return resourceNames[r]
}

// Level tells how a grant's project scope applies to the resource. dbt's
// permission tables split features into account-level ones (granted
// account-wide by any grant that carries them, whatever its project scope)
// and project-level ones (granted only in the grant's projects).
func (r Resource) Level() Level {
	switch r {
	case Projects, Environments, Jobs, Metadata, SemanticLayer, Credentials:
		return ProjectLevel
	case AccountSettings, Billing, Users, Licenses, Groups, ServiceTokens,
		IPRestrictions, AuditLog, Connections, Webhooks:
		return AccountLevel
	}
	return 0
}

// Resources returns every resource in order.
func Resources() []Resource {
	out := make([]Resource, numResources)
	for i := range out {
		out[i] = Resource(i)
	}
	return out
}

// Level is where a resource lives: the account or a project.
type Level uint8

// The levels. The zero Level is invalid.
const (
	AccountLevel Level = iota + 1
	ProjectLevel
)

func (l Level) String() string {
	switch l {
	case AccountLevel:
		return "account"
	case ProjectLevel:
		return "project"
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// Access is what a capability allows on a resource. Write implies Read.
type Access uint8

// The accesses.
const (
	Read  Access = 1
	Write Access = 2
)

func (a Access) String() string {
	switch a {
	case Read:
		return "read"
	case Write:
		return "write"
	}
	return "access(" + strconv.Itoa(int(a)) + ")"
}

// Caps is a set of (resource, access) pairs. Resource r owns bit 2r (read)
// and bit 2r+1 (write); a write bit implies read even when the read bit is
// clear. The zero Caps grants nothing; union is |.
type Caps uint64

const (
	readBits  Caps = 0x5555555555555555 & (1<<(2*numResources) - 1)
	writeBits Caps = readBits << 1
)

// Cap returns the single bit for (r, a). For Write that is the write bit,
// which Has also counts as Read. An unknown resource or access gives 0.
func Cap(r Resource, a Access) Caps {
	if r >= numResources {
		return 0
	}
	switch a {
	case Read:
		return 1 << (2 * Caps(r))
	case Write:
		return 1 << (2*Caps(r) + 1)
	}
	return 0
}

// Has reports whether c allows a on r. It does not allocate.
func (c Caps) Has(r Resource, a Access) bool {
	if r >= numResources {
		return false
	}
	bits := c >> (2 * Caps(r)) & 3
	switch a {
	case Read:
		return bits != 0
	case Write:
		return bits&2 != 0
	}
	return false
}

// ReadOnly drops every write bit and keeps a read bit wherever c could read.
func (c Caps) ReadOnly() Caps {
	return c&readBits | (c&writeBits)>>1
}

// String lists the capabilities, e.g. "billing:W jobs:R"; "none" when empty.
func (c Caps) String() string {
	var b strings.Builder
	for r := range numResources {
		var s string
		switch {
		case c.Has(r, Write):
			s = "W"
		case c.Has(r, Read):
			s = "R"
		default:
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(r.String())
		b.WriteByte(':')
		b.WriteString(s)
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// levelMask returns the bits of every resource at level l.
func levelMask(l Level) Caps {
	var m Caps
	for r := range numResources {
		if r.Level() == l {
			m |= Cap(r, Read) | Cap(r, Write)
		}
	}
	return m
}

// read returns read capabilities on the given resources.
func read(rs ...Resource) Caps {
	var c Caps
	for _, r := range rs {
		c |= Cap(r, Read)
	}
	return c
}

// write returns write (and so read) capabilities on the given resources.
func write(rs ...Resource) Caps {
	var c Caps
	for _, r := range rs {
		c |= Cap(r, Write)
	}
	return c
}

// Name returns the capability's name as refusals and the forward-auth gateway spell it:
// "resource:access", e.g. "projects:write".
func Name(r Resource, a Access) string { return r.String() + ":" + a.String() }

// ParseName reads a capability's name ("projects:write"), as Name writes it.
func ParseName(v string) (Resource, Access, bool) {
	name, access, ok := strings.Cut(v, ":")
	if !ok {
		return 0, 0, false
	}
	var a Access
	switch access {
	case "read":
		a = Read
	case "write":
		a = Write
	default:
		return 0, 0, false
	}
	for r := range numResources {
		if resourceNames[r] == name {
			return r, a, true
		}
	}
	return 0, 0, false
}
