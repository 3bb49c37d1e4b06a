//! AWS service authorization data: every action, its access level, resource types and condition keys.
