//! The requests of `simulate --cases` on the fast path: each built from the fast reader's view as
//! `EngineCase::prepare_with` builds it, with callers parsed once per worker and shared. Case
//! files ask the same request under many policies, so the request of each distinct request text
//! is kept (up to [`KEPT`] of them) and the reader recognizes later copies of the text, which are
//! then neither read nor built again.

use std::collections::HashMap;
use std::sync::Arc;

use rolewright_iam::{Principal, Request};

use super::reader::{CasePrincipal, CaseView, KnownObjects};
use super::runner::{Catalog, TextHash};

/// At most this many requests are kept per worker, each from a text of at most [`KEPT_TEXT`]
/// bytes, so that memory stays bounded however many distinct requests a file has and however
/// large; the others are built case by case.
const KEPT: usize = 4096;

/// The longest request text whose request is kept (requests are usually a few hundred bytes).
const KEPT_TEXT: usize = 4 << 10;

/// One worker's requests.
pub struct Requests {
    principals: HashMap<Box<str>, Option<Arc<Principal>>, TextHash>,
    /// The last principal looked up: cases often repeat the caller of the case before.
    last_principal: Option<(Box<str>, Option<Arc<Principal>>)>,
    anonymous: Arc<Principal>,
    /// The requests kept, by the ids their texts have among the known requests.
    kept: Vec<Request>,
    /// The request of a case when no more are kept, renewed case after case: building a new
    /// one would allocate its strings again.
    scratch: Request,
}

impl Default for Requests {
    fn default() -> Self {
        let anonymous = Arc::new(Principal::Anonymous);
        Requests {
            principals: HashMap::default(),
            last_principal: None,
            scratch: Request::new_shared(Arc::clone(&anonymous), "", ""),
            anonymous,
            kept: Vec::new(),
        }
    }
}

impl Requests {
    /// The request of a case read by the fast reader; `None` when its principal does not read.
    /// A request built from a text is kept, and its text recorded in `known`.
    pub fn get(
        &mut self,
        view: &mut CaseView<'_>,
        catalog: Option<Catalog>,
        known: &mut KnownObjects,
    ) -> Option<&Request> {
        if let Some(id) = view.known_request {
            return self.kept.get(usize::try_from(id).ok()?);
        }
        let principal = match &view.principal {
            Some(CasePrincipal::Text(text)) => self.principal(text)?,
            Some(CasePrincipal::Anonymous) => Arc::clone(&self.anonymous),
            None => return None,
        };
        let id = u32::try_from(self.kept.len()).ok();
        match id {
            Some(id) if self.kept.len() < KEPT && keeps(view.request_text) => {
                let mut request = Request::new_shared(principal, &view.action, &view.resource);
                complete(&mut request, view, catalog);
                known.insert(view.request_text, id);
                self.kept.push(request);
                self.kept.last()
            }
            _ => {
                self.scratch.renew(principal, &view.action, &view.resource);
                complete(&mut self.scratch, view, catalog);
                Some(&self.scratch)
            }
        }
    }

    /// A principal read from its text once per worker and shared by its requests: callers are
    /// few and repeat themselves.
    fn principal(&mut self, text: &str) -> Option<Arc<Principal>> {
        if let Some((last, principal)) = &self.last_principal
            && **last == *text
        {
            return principal.clone();
        }
        let principal = match self.principals.get(text) {
            Some(principal) => principal.clone(),
            None => {
                let principal = Principal::parse(text).ok().map(Arc::new);
                self.principals.insert(text.into(), principal.clone());
                principal
            }
        };
        self.last_principal = Some((text.into(), principal.clone()));
        principal
    }
}

/// Whether the request of this text is kept.
fn keeps(text: &str) -> bool {
    !text.is_empty() && text.len() <= KEPT_TEXT
}

/// Sets what a request takes from the view besides its principal, action and resource.
fn complete(request: &mut Request, view: &mut CaseView<'_>, catalog: Option<Catalog>) {
    // The account is usually the one in the ARN already; setting it again would only copy it.
    if request.resource_account() != Some(view.account_id.as_ref()) {
        request.set_resource_account(&view.account_id);
    }
    match (view.wildcard_only_action, catalog) {
        (Some(true), _) => request.set_wildcard_only_action(true),
        (None, Some(catalog)) => request.infer_wildcard_only_action(catalog),
        // A new or renewed request is not wildcard-only.
        (Some(false), _) | (None, None) => {}
    }
    std::mem::swap(request.context_mut(), &mut view.context);
}
