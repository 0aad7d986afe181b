//! Tests of the plan in force.
