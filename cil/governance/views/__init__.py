"""Pages of the conference's sessions, one module per flow. Views are thin: selectors read,
services write, `abilities.meeting_abilities()` says what the user may do now."""
