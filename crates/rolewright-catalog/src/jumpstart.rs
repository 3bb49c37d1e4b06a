//! JumpStart and project templates for custom execution roles (seed 000): the roles and
//! policy the SageMaker portfolio's products need, and the conditions under which a user
//! profile has JumpStart and Projects, decided from what the control plane answers. The
//! `rolewright jumpstart` command and the web console read the same answers and decide with
//! the same [`evaluate`]; each makes its calls its own way.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};

/// The role Service Catalog launches the SageMaker portfolio's products as.
pub const LAUNCH_ROLE: &str = "AmazonSageMakerServiceCatalogProductsLaunchRole";
/// The role the launched products' resources (pipelines, builds, functions) run as.
pub const USE_ROLE: &str = "AmazonSageMakerServiceCatalogProductsUseRole";
/// The customer managed policy the seed's template gives the use role.
pub const USE_ROLE_POLICY: &str = "1PProductUseRolePolicy";
/// The AWS managed policy of the launch role.
pub const LAUNCH_ROLE_POLICY_ARN: &str =
    "arn:aws:iam::aws:policy/AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy";
/// The path both roles live under (AWS's LAUNCH constraint names `role/service-role/...`).
pub const ROLE_PATH: &str = "/service-role/";
/// The provider of the portfolio that SageMaker's switch imports.
pub const SAGEMAKER_PROVIDER: &str = "Amazon SageMaker";
/// Its display name (older accounts; the provider is what identifies it).
pub const SAGEMAKER_PORTFOLIO: &str = "Amazon SageMaker Solutions and ML Ops products";

/// The launch role's trust policy: Service Catalog.
pub const LAUNCH_ROLE_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"servicecatalog.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The services whose resources the SageMaker portfolio's products create and run as the use
/// role.
pub const USE_ROLE_SERVICES: [&str; 10] = [
    "apigateway.amazonaws.com",
    "cloudformation.amazonaws.com",
    "codebuild.amazonaws.com",
    "codepipeline.amazonaws.com",
    "events.amazonaws.com",
    "firehose.amazonaws.com",
    "glue.amazonaws.com",
    "lambda.amazonaws.com",
    "sagemaker.amazonaws.com",
    "states.amazonaws.com",
];

/// `1PProductUseRolePolicy`. The seed names the policy but does not print it; this document
/// grants what the products' pipelines, builds, stacks, functions and jobs do, on resources
/// named `sagemaker-*` as the products name theirs.
pub const USE_ROLE_POLICY_DOCUMENT: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ProductStacks",
      "Effect": "Allow",
      "Action": [
        "cloudformation:CreateChangeSet",
        "cloudformation:CreateStack",
        "cloudformation:DeleteChangeSet",
        "cloudformation:DeleteStack",
        "cloudformation:DescribeChangeSet",
        "cloudformation:DescribeStacks",
        "cloudformation:ExecuteChangeSet",
        "cloudformation:UpdateStack"
      ],
      "Resource": "arn:aws:cloudformation:*:*:stack/sagemaker-*"
    },
    {
      "Sid": "ProductBuilds",
      "Effect": "Allow",
      "Action": ["codebuild:BatchGetBuilds", "codebuild:StartBuild"],
      "Resource": "arn:aws:codebuild:*:*:project/sagemaker-*"
    },
    {
      "Sid": "ProductRepositories",
      "Effect": "Allow",
      "Action": [
        "codecommit:CancelUploadArchive",
        "codecommit:GetBranch",
        "codecommit:GetCommit",
        "codecommit:GetUploadArchiveStatus",
        "codecommit:GitPull",
        "codecommit:UploadArchive"
      ],
      "Resource": "arn:aws:codecommit:*:*:sagemaker-*"
    },
    {
      "Sid": "ProductPipelines",
      "Effect": "Allow",
      "Action": ["codepipeline:StartPipelineExecution"],
      "Resource": "arn:aws:codepipeline:*:*:sagemaker-*"
    },
    {
      "Sid": "ProductRules",
      "Effect": "Allow",
      "Action": [
        "events:DeleteRule",
        "events:DescribeRule",
        "events:PutRule",
        "events:PutTargets",
        "events:RemoveTargets"
      ],
      "Resource": "arn:aws:events:*:*:rule/sagemaker-*"
    },
    {
      "Sid": "ProductStreams",
      "Effect": "Allow",
      "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
      "Resource": "arn:aws:firehose:*:*:deliverystream/sagemaker-*"
    },
    {
      "Sid": "ProductGlueJobs",
      "Effect": "Allow",
      "Action": ["glue:GetJobRun", "glue:StartJobRun"],
      "Resource": "arn:aws:glue:*:*:job/sagemaker-*"
    },
    {
      "Sid": "ProductFunctions",
      "Effect": "Allow",
      "Action": ["lambda:InvokeFunction"],
      "Resource": "arn:aws:lambda:*:*:function:sagemaker-*"
    },
    {
      "Sid": "ProductLogs",
      "Effect": "Allow",
      "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
      "Resource": [
        "arn:aws:logs:*:*:log-group:/aws/codebuild/sagemaker-*",
        "arn:aws:logs:*:*:log-group:/aws/codebuild/sagemaker-*:log-stream:*",
        "arn:aws:logs:*:*:log-group:/aws/lambda/sagemaker-*",
        "arn:aws:logs:*:*:log-group:/aws/lambda/sagemaker-*:log-stream:*",
        "arn:aws:logs:*:*:log-group:/aws/sagemaker/*",
        "arn:aws:logs:*:*:log-group:/aws/sagemaker/*:log-stream:*"
      ]
    },
    {
      "Sid": "ProductArtifacts",
      "Effect": "Allow",
      "Action": [
        "s3:CreateBucket",
        "s3:GetBucketLocation",
        "s3:GetBucketVersioning",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:ListBucket",
        "s3:PutObject"
      ],
      "Resource": ["arn:aws:s3:::sagemaker-*", "arn:aws:s3:::sagemaker-*/*"]
    },
    {
      "Sid": "ProductModels",
      "Effect": "Allow",
      "Action": [
        "sagemaker:AddTags",
        "sagemaker:CreateEndpoint",
        "sagemaker:CreateEndpointConfig",
        "sagemaker:CreateModel",
        "sagemaker:CreatePipeline",
        "sagemaker:DeleteEndpoint",
        "sagemaker:DeleteEndpointConfig",
        "sagemaker:DeleteModel",
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:DescribeModel",
        "sagemaker:DescribePipeline",
        "sagemaker:DescribePipelineExecution",
        "sagemaker:InvokeEndpoint",
        "sagemaker:StartPipelineExecution",
        "sagemaker:UpdateEndpoint",
        "sagemaker:UpdatePipeline"
      ],
      "Resource": [
        "arn:aws:sagemaker:*:*:endpoint/sagemaker-*",
        "arn:aws:sagemaker:*:*:endpoint-config/sagemaker-*",
        "arn:aws:sagemaker:*:*:model/sagemaker-*",
        "arn:aws:sagemaker:*:*:pipeline/sagemaker-*",
        "arn:aws:sagemaker:*:*:pipeline/sagemaker-*/execution/*"
      ]
    },
    {
      "Sid": "ProductStateMachines",
      "Effect": "Allow",
      "Action": ["states:DescribeExecution", "states:StartExecution"],
      "Resource": [
        "arn:aws:states:*:*:stateMachine:sagemaker-*",
        "arn:aws:states:*:*:execution:sagemaker-*:*"
      ]
    },
    {
      "Sid": "PassTheUseRoleToTheProductsServices",
      "Effect": "Allow",
      "Action": "iam:PassRole",
      "Resource": "arn:aws:iam::*:role/service-role/AmazonSageMakerServiceCatalogProductsUseRole",
      "Condition": {
        "StringEquals": {
          "iam:PassedToService": [
            "apigateway.amazonaws.com",
            "cloudformation.amazonaws.com",
            "codebuild.amazonaws.com",
            "codepipeline.amazonaws.com",
            "events.amazonaws.com",
            "firehose.amazonaws.com",
            "glue.amazonaws.com",
            "lambda.amazonaws.com",
            "sagemaker.amazonaws.com",
            "states.amazonaws.com"
          ]
        }
      }
    }
  ]
}"#;

// ---- what is read -------------------------------------------------------------------------

/// The parts of a domain that decide its users' access.
#[derive(Debug, Clone)]
pub struct Domain {
    /// Domain id.
    pub id: String,
    /// Domain name.
    pub name: String,
    /// The region it is in.
    pub region: String,
    /// `DefaultUserSettings.ExecutionRole`.
    pub default_role: Option<String>,
    /// `DefaultUserSettings.StudioWebPortalSettings.HiddenMlTools`.
    pub default_hidden: Vec<String>,
}

/// The parts of a user profile that decide its access.
#[derive(Debug, Clone)]
pub struct Profile {
    /// User profile name.
    pub name: String,
    /// Its own `UserSettings.ExecutionRole`.
    pub own_role: Option<String>,
    /// Its own `HiddenMlTools`, when it sets them.
    pub own_hidden: Option<Vec<String>>,
}

/// The imported SageMaker portfolio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portfolio {
    /// Portfolio id.
    pub id: String,
    /// Its display name.
    pub name: String,
}

/// A portfolio's principals: exact ARNs, and IAM_PATTERN ARNs without an account.
#[derive(Debug, Clone, Default)]
pub struct Principals {
    /// `IAM` principals.
    pub exact: HashSet<String>,
    /// `IAM_PATTERN` principals.
    pub patterns: Vec<String>,
}

impl Principals {
    /// Whether a principal of the portfolio is this role.
    pub fn covers(&self, role_arn: &str) -> bool {
        if self.exact.contains(role_arn) {
            return true;
        }
        let account_less = without_account(role_arn);
        self.patterns
            .iter()
            .any(|p| pattern_matches(p, &account_less))
    }
}

/// `arn:aws:iam::123456789012:role/x` → `arn:aws:iam:::role/x`, the form IAM_PATTERN
/// principals are written in.
pub fn without_account(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts[..] {
        [head, partition, service, region, _, resource] => {
            format!("{head}:{partition}:{service}:{region}::{resource}")
        }
        _ => arn.to_string(),
    }
}

/// Whether an IAM_PATTERN (`*` any run of characters, `?` one character or none) matches the
/// whole of `text`.
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let mut row = vec![false; t.len() + 1];
    row[0] = true;
    for c in pattern.chars() {
        let mut next = vec![false; t.len() + 1];
        for j in 0..=t.len() {
            next[j] = match c {
                '*' => row[j] || (j > 0 && next[j - 1]),
                '?' => row[j] || (j > 0 && row[j - 1]),
                c => j > 0 && t[j - 1] == c && row[j - 1],
            };
        }
        row = next;
    }
    row[t.len()]
}

/// The account-wide conditions.
#[derive(Debug, Clone, Default)]
pub struct Account {
    /// The SageMaker portfolio switch reads Enabled.
    pub switch_on: bool,
    /// The imported SageMaker portfolio, once imported.
    pub portfolio: Option<Portfolio>,
    /// Its principals.
    pub principals: Principals,
    /// [`LAUNCH_ROLE`] exists.
    pub launch_role: bool,
    /// [`USE_ROLE`] exists.
    pub use_role: bool,
}

// ---- deciding -----------------------------------------------------------------------------

/// Where a setting of a profile comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The user profile sets it.
    User,
    /// The domain's default user settings set it.
    Domain,
}

impl Origin {
    /// `user` or `domain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::User => "user",
            Origin::Domain => "domain",
        }
    }
}

/// A missing condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// The portfolio switch is off.
    PortfolioDisabled,
    /// The SageMaker portfolio is not imported.
    PortfolioNotImported,
    /// No execution role at all.
    NoExecutionRole,
    /// The execution role is no principal of the portfolio.
    RoleNotAssociated {
        /// Its ARN.
        role: String,
        /// Where it is set.
        from: Origin,
    },
    /// A Service Catalog role does not exist.
    Role(&'static str),
    /// `HiddenMlTools` hides a tool.
    Hidden {
        /// `JumpStart` or `Projects`.
        tool: &'static str,
        /// Where it is hidden.
        from: Origin,
    },
}

impl Missing {
    /// A short code (`role-not-associated`).
    pub fn code(&self) -> &'static str {
        match self {
            Missing::PortfolioDisabled => "portfolio-disabled",
            Missing::PortfolioNotImported => "portfolio-not-imported",
            Missing::NoExecutionRole => "no-execution-role",
            Missing::RoleNotAssociated { .. } => "role-not-associated",
            Missing::Role(name) if *name == LAUNCH_ROLE => "launch-role-missing",
            Missing::Role(_) => "use-role-missing",
            Missing::Hidden {
                tool: "JumpStart", ..
            } => "jumpstart-hidden",
            Missing::Hidden { .. } => "projects-hidden",
        }
    }

    /// What is missing, in words.
    pub fn message(&self) -> String {
        match self {
            Missing::PortfolioDisabled => "the account's SageMaker Service Catalog portfolio \
                 switch is off (EnableSagemakerServicecatalogPortfolio)"
                .into(),
            Missing::PortfolioNotImported => "the SageMaker portfolio is not among the \
                 account's imported portfolios (ListAcceptedPortfolioShares)"
                .into(),
            Missing::NoExecutionRole => {
                "neither the user profile nor the domain has an execution role".into()
            }
            Missing::RoleNotAssociated {
                role,
                from: Origin::User,
            } => format!(
                "its execution role `{role}` is not associated with the SageMaker portfolio \
                 (AssociatePrincipalWithPortfolio)"
            ),
            Missing::RoleNotAssociated {
                role,
                from: Origin::Domain,
            } => format!(
                "the domain's execution role `{role}`, which it uses, is not associated with \
                 the SageMaker portfolio (AssociatePrincipalWithPortfolio)"
            ),
            Missing::Role(name) => format!("the role `{name}` does not exist"),
            Missing::Hidden { tool, from } => format!(
                "StudioWebPortalSettings.HiddenMlTools hides {tool} (set on the {})",
                match from {
                    Origin::User => "user profile",
                    Origin::Domain => "domain's default user settings",
                }
            ),
        }
    }

    /// `{"code", "message"}`.
    pub fn to_json(&self) -> Value {
        json!({"code": self.code(), "message": self.message()})
    }
}

/// One user's access.
#[derive(Debug, Clone)]
pub struct UserStatus {
    /// User profile name.
    pub name: String,
    /// Its effective execution role.
    pub role: Option<String>,
    /// Where that role is set.
    pub role_from: Option<Origin>,
    /// JumpStart is open to it.
    pub jumpstart: bool,
    /// Project templates are open to it.
    pub projects: bool,
    /// What is missing, in order.
    pub missing: Vec<Missing>,
}

impl UserStatus {
    /// The user's line of `jumpstart status --format json`.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "executionRole": self.role,
            "executionRoleFrom": self.role_from.map(Origin::as_str),
            "jumpstart": self.jumpstart,
            "projects": self.projects,
            "missing": self.missing.iter().map(Missing::to_json).collect::<Vec<_>>(),
        })
    }

    /// Both JumpStart and project templates are open.
    pub fn fully_enabled(&self) -> bool {
        self.jumpstart && self.projects
    }
}

/// The profile's execution role, else the domain's, and where it is set.
pub fn effective_role(domain: &Domain, profile: &Profile) -> Option<(String, Origin)> {
    profile
        .own_role
        .clone()
        .map(|r| (r, Origin::User))
        .or_else(|| domain.default_role.clone().map(|r| (r, Origin::Domain)))
}

/// Whether JumpStart and project templates are open to `profile`, and what is missing.
pub fn evaluate(domain: &Domain, profile: &Profile, account: &Account) -> UserStatus {
    let role = effective_role(domain, profile);
    let mut missing = Vec::new();
    if !account.switch_on {
        missing.push(Missing::PortfolioDisabled);
    } else if account.portfolio.is_none() {
        missing.push(Missing::PortfolioNotImported);
    }
    match &role {
        None => missing.push(Missing::NoExecutionRole),
        Some((arn, from)) if !account.principals.covers(arn) => {
            missing.push(Missing::RoleNotAssociated {
                role: arn.clone(),
                from: *from,
            });
        }
        Some(_) => {}
    }
    if !account.launch_role {
        missing.push(Missing::Role(LAUNCH_ROLE));
    }
    if !account.use_role {
        missing.push(Missing::Role(USE_ROLE));
    }
    let blocked = !missing.is_empty();
    let (hidden, hidden_from) = match &profile.own_hidden {
        Some(h) => (h.as_slice(), Origin::User),
        None => (domain.default_hidden.as_slice(), Origin::Domain),
    };
    let mut open = BTreeMap::new();
    for tool in ["JumpStart", "Projects"] {
        let is_hidden = hidden.iter().any(|h| h == tool);
        if is_hidden {
            missing.push(Missing::Hidden {
                tool,
                from: hidden_from,
            });
        }
        open.insert(tool, !blocked && !is_hidden);
    }
    UserStatus {
        name: profile.name.clone(),
        role: role.as_ref().map(|(r, _)| r.clone()),
        role_from: role.map(|(_, f)| f),
        jumpstart: open.get("JumpStart").copied().unwrap_or(false),
        projects: open.get("Projects").copied().unwrap_or(false),
        missing,
    }
}

/// The use role's trust policy: the services the products run on.
pub fn use_role_trust() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": USE_ROLE_SERVICES},
            "Action": "sts:AssumeRole",
        }],
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain() -> Domain {
        Domain {
            id: "d-1".into(),
            name: "team".into(),
            region: "us-east-1".into(),
            default_role: Some("arn:aws:iam::111122223333:role/DomainRole".into()),
            default_hidden: vec![],
        }
    }

    fn profile(name: &str, role: Option<&str>, hidden: Option<&[&str]>) -> Profile {
        Profile {
            name: name.into(),
            own_role: role.map(str::to_string),
            own_hidden: hidden.map(|h| h.iter().map(|s| (*s).to_string()).collect()),
        }
    }

    fn ready(principals: &[&str]) -> Account {
        Account {
            switch_on: true,
            portfolio: Some(Portfolio {
                id: "port-1".into(),
                name: SAGEMAKER_PORTFOLIO.into(),
            }),
            principals: Principals {
                exact: principals.iter().map(|s| (*s).to_string()).collect(),
                patterns: vec![],
            },
            launch_role: true,
            use_role: true,
        }
    }

    #[test]
    fn a_fresh_account_misses_every_condition_in_order() {
        let status = evaluate(
            &domain(),
            &profile("a", Some("arn:aws:iam::111122223333:role/Custom"), None),
            &Account::default(),
        );
        let codes: Vec<_> = status.missing.iter().map(Missing::code).collect();
        assert_eq!(
            codes,
            [
                "portfolio-disabled",
                "role-not-associated",
                "launch-role-missing",
                "use-role-missing"
            ]
        );
        assert!(!status.jumpstart && !status.projects);
    }

    #[test]
    fn a_profile_without_a_role_uses_the_domains() {
        let status = evaluate(&domain(), &profile("a", None, None), &ready(&[]));
        assert_eq!(status.role_from, Some(Origin::Domain));
        assert_eq!(
            status.missing[0].message(),
            "the domain's execution role `arn:aws:iam::111122223333:role/DomainRole`, which it \
             uses, is not associated with the SageMaker portfolio (AssociatePrincipalWithPortfolio)"
        );
        let ok = evaluate(
            &domain(),
            &profile("a", None, None),
            &ready(&["arn:aws:iam::111122223333:role/DomainRole"]),
        );
        assert!(ok.fully_enabled() && ok.missing.is_empty());
    }

    #[test]
    fn hidden_tools_close_only_that_tool_and_the_profile_overrides_the_domain() {
        let mut d = domain();
        d.default_hidden = vec!["JumpStart".into(), "Projects".into()];
        let account = ready(&["arn:aws:iam::111122223333:role/DomainRole"]);
        let from_domain = evaluate(&d, &profile("a", None, None), &account);
        assert!(!from_domain.jumpstart && !from_domain.projects);
        let own = evaluate(&d, &profile("b", None, Some(&["JumpStart"])), &account);
        assert!(!own.jumpstart && own.projects);
        assert_eq!(
            own.missing,
            [Missing::Hidden {
                tool: "JumpStart",
                from: Origin::User
            }]
        );
        let none = evaluate(&d, &profile("c", None, Some(&[])), &account);
        assert!(none.fully_enabled());
    }

    #[test]
    fn pattern_principals_cover_roles_of_any_account() {
        let principals = Principals {
            exact: HashSet::new(),
            patterns: vec![
                "arn:aws:iam:::role/ml-*".into(),
                "arn:aws:iam:::role/x?y".into(),
            ],
        };
        assert!(principals.covers("arn:aws:iam::111122223333:role/ml-team/alice"));
        assert!(principals.covers("arn:aws:iam::111122223333:role/xy"));
        assert!(principals.covers("arn:aws:iam::111122223333:role/xay"));
        assert!(!principals.covers("arn:aws:iam::111122223333:role/xaay"));
        assert!(!principals.covers("arn:aws:iam::111122223333:role/other"));
    }

    #[test]
    fn the_use_role_policy_and_trust_lint_without_errors_or_security_warnings() {
        use rolewright_iam::PolicyType;
        use rolewright_lint::{LintType, Severity, lint};
        let reference = rolewright_reference::Reference::embedded();
        for (text, policy_type) in [
            (USE_ROLE_POLICY_DOCUMENT.to_string(), PolicyType::Identity),
            (use_role_trust(), PolicyType::Trust),
            (LAUNCH_ROLE_TRUST.to_string(), PolicyType::Trust),
        ] {
            let findings = lint(&text, LintType::Type(policy_type), reference);
            let serious: Vec<_> = findings
                .iter()
                .filter(|f| matches!(f.severity, Severity::Error | Severity::SecurityWarning))
                .collect();
            assert!(serious.is_empty(), "{serious:#?}");
        }
    }
}
