//! The operation tables: each service lists its operations once, each with the IAM action it is
//! authorized as and the resource type it is authorized on, and dispatches from that same list,
//! so that what is listed is exactly what is served.

/// One operation of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The wire name (`CreateRole`).
    pub name: &'static str,
    /// The IAM action it is authorized as (`iam:CreateRole`).
    pub action: &'static str,
    /// The Service Authorization Reference's resource type of the ARN it is authorized on
    /// (`role`; `domain|user-profile` when it acts on any of several), or `*` for an action
    /// authorized on every resource.
    pub resource: &'static str,
}

/// A service served, with its operations.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// The signing name and action prefix (`iam`).
    pub name: &'static str,
    /// How clients speak to it (`query`, `json-1.1`, `json-1.1 and rpc-v2-cbor`).
    pub protocol: &'static str,
    /// Every operation served.
    pub operations: &'static [Operation],
}

/// Every service of the control plane.
pub const SERVICES: &[Service] = &[
    Service {
        name: "iam",
        protocol: "query",
        operations: crate::iam::OPERATIONS,
    },
    Service {
        name: "sts",
        protocol: "query",
        operations: crate::sts::OPERATIONS,
    },
    Service {
        name: "sagemaker",
        protocol: "json-1.1",
        operations: crate::sagemaker::OPERATIONS,
    },
    Service {
        name: "servicecatalog",
        protocol: "json-1.1",
        operations: crate::servicecatalog::OPERATIONS,
    },
    Service {
        name: "cloudformation",
        protocol: "query",
        operations: crate::cloudformation::OPERATIONS,
    },
];

/// The operation `name` of the service signed as `service`.
pub fn find(service: &str, name: &str) -> Option<&'static Operation> {
    SERVICES
        .iter()
        .find(|s| s.name == service)?
        .operations
        .iter()
        .find(|o| o.name == name)
}

/// Declares a service's `OPERATIONS` table and the function that runs an operation by name,
/// from one list of `"Name" on "resource-type" => handler call` lines. The handler calls name
/// the request context and the input with the identifiers given in the `fn` line.
macro_rules! operation_table {
    (
        service $prefix:literal;
        $vis:vis async fn $run:ident($cx:ident, $input:ident: $input_ty:ty) else $unknown:expr;
        $( $name:literal on $resource:literal => $call:expr, )*
    ) => {
        /// Every operation served, with its IAM action and the resource type it is authorized on.
        pub const OPERATIONS: &[$crate::operation::Operation] = &[
            $( $crate::operation::Operation {
                name: $name,
                action: concat!($prefix, ":", $name),
                resource: $resource,
            }, )*
        ];

        /// Runs the operation of [`OPERATIONS`] named `operation`.
        $vis async fn $run(
            $cx: &mut $crate::server::Cx<'_>,
            operation: &str,
            $input: $input_ty,
        ) -> Result<$crate::server::Reply, $crate::error::ApiError> {
            match operation {
                $( $name => $call, )*
                other => Err($unknown(other)),
            }
        }
    };
}

pub(crate) use operation_table;

#[cfg(test)]
mod tests {
    use super::*;
    use rolewright_reference::Reference;

    #[test]
    fn every_operation_is_an_action_of_the_service_reference_with_its_resource_type() {
        let aws = Reference::embedded();
        let mut problems = Vec::new();
        for service in SERVICES {
            for op in service.operations {
                // Operations that need no permission are authorized as the action of the
                // operation; the reference may not list the few that AWS documents as free.
                let Some(action) = aws.action(op.action) else {
                    if !matches!(op.action, "sts:GetCallerIdentity") {
                        problems.push(format!("{}: not in the reference", op.action));
                    }
                    continue;
                };
                let listed = op
                    .resource
                    .split('|')
                    .all(|name| action.resource_types().iter().any(|rt| rt.name == name));
                let fits = if op.resource == "*" {
                    action.is_wildcard_only()
                        || !action.resource_types().iter().any(|rt| rt.required)
                } else {
                    listed
                };
                if !fits {
                    let types: Vec<&str> =
                        action.resource_types().iter().map(|rt| rt.name).collect();
                    problems.push(format!(
                        "{} on `{}`: the reference lists [{}]",
                        op.action,
                        op.resource,
                        types.join(", ")
                    ));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn no_operation_is_listed_twice() {
        for service in SERVICES {
            let mut names: Vec<&str> = service.operations.iter().map(|o| o.name).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(
                before,
                names.len(),
                "{} lists an operation twice",
                service.name
            );
        }
    }

    #[test]
    fn find_looks_up_by_signing_name_and_operation() {
        assert_eq!(
            find("iam", "CreateRole").map(|o| o.action),
            Some("iam:CreateRole")
        );
        assert_eq!(
            find("sagemaker", "DescribeDomain").map(|o| o.resource),
            Some("domain")
        );
        assert!(find("iam", "DescribeDomain").is_none());
        assert!(find("ec2", "RunInstances").is_none());
    }
}
