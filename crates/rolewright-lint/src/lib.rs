//! Policy linter: findings in IAM Access Analyzer's four severities, with stable codes and JSON paths.
