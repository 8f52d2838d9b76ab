package catalog

// ListenerPID returns the PostgreSQL backend of the LISTEN connection.
func (m *Model) ListenerPID() uint32 { return m.pid.Load() }
