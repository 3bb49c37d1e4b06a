//! Service Catalog: the portfolios (`ListPortfolios`), a portfolio's products
//! (`SearchProductsAsAdmin`), constraints (`ListConstraintsForPortfolio`, each described for its
//! parameters) and principals (`ListPrincipalsForPortfolio`), and the provisioned products
//! (`SearchProvisionedProducts`) with terminate (`TerminateProvisionedProduct`, a form with the
//! session's CSRF token). Provisioning a product is [`crate::provision`]'s.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Response, StatusCode};
use maud::html;
use rand::Rng as _;
use serde_json::json;

use crate::Console;
use crate::call::Principal;
use crate::page::{self, encode_query};
use crate::session::{SignedForm, SignedIn};
use crate::stacks::status_tag;
use crate::studio::{all_pages, s, when};

/// `GET /console/catalog`.
pub async fn portfolios(
    State(console): State<Arc<Console>>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let list = match all_pages(
        &principal,
        "servicecatalog",
        "ListPortfolios",
        json!({"PageSize": 20}),
        "PortfolioDetails",
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return page::api_error(&signed, &e),
    };
    let body = html! {
        h1 { "Service Catalog portfolios" }
        p { a href="/console/catalog/provisioned" { "Provisioned products" } }
        (page::table(
            Some(&format!("Portfolios ({})", list.len())),
            &["Name", "ID", "Provider", "Description"],
            &list,
            html! { "There are no portfolios in this account. Create one with " code { "aws servicecatalog create-portfolio" } "." },
            |p| html! {
                td { a href={ "/console/catalog/portfolios/" (encode_query(&s(p, "Id"))) } { (s(p, "DisplayName")) } }
                td { code { (s(p, "Id")) } }
                td { (s(p, "ProviderName")) }
                td { (s(p, "Description")) }
            },
        ))
    };
    page::html(
        StatusCode::OK,
        page::layout("Portfolios", Some(&signed), body),
    )
}

/// `GET /console/catalog/portfolios/{id}`.
pub async fn portfolio(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let described = match principal
        .servicecatalog("DescribePortfolio", json!({"Id": id}))
        .await
    {
        Ok(d) => d,
        Err(e) => return page::api_error(&signed, &e),
    };
    let products = match all_pages(
        &principal,
        "servicecatalog",
        "SearchProductsAsAdmin",
        json!({"PortfolioId": id, "PageSize": 20}),
        "ProductViewDetails",
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return page::api_error(&signed, &e),
    };
    let constraints = match all_pages(
        &principal,
        "servicecatalog",
        "ListConstraintsForPortfolio",
        json!({"PortfolioId": id, "PageSize": 20}),
        "ConstraintDetails",
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return page::api_error(&signed, &e),
    };
    let principals = match all_pages(
        &principal,
        "servicecatalog",
        "ListPrincipalsForPortfolio",
        json!({"PortfolioId": id, "PageSize": 20}),
        "Principals",
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return page::api_error(&signed, &e),
    };
    let mut parameters = Vec::new();
    for c in &constraints {
        let text = match principal
            .servicecatalog("DescribeConstraint", json!({"Id": s(c, "ConstraintId")}))
            .await
        {
            Ok(d) => s(&d, "ConstraintParameters"),
            Err(e) => format!("(not shown: {})", e.code),
        };
        parameters.push(text);
    }
    let product_name = |product: &str| {
        products
            .iter()
            .map(|p| &p["ProductViewSummary"])
            .find(|v| s(v, "ProductId") == product)
            .map_or_else(|| product.to_string(), |v| s(v, "Name"))
    };
    let detail = &described["PortfolioDetail"];
    let name = s(detail, "DisplayName");
    let body = html! {
        p { a href="/console/catalog" { "Portfolios" } " › " (name) }
        h1 { (name) }
        dl.summary {
            dt { "ID" } dd { code { (s(detail, "Id")) } }
            dt { "ARN" } dd { code { (s(detail, "ARN")) } }
            dt { "Provider" } dd { (s(detail, "ProviderName")) }
            dt { "Description" } dd { @if s(detail, "Description").is_empty() { "None" } @else { (s(detail, "Description")) } }
            dt { "Created" } dd { (when(detail, "CreatedTime")) }
        }
        h2 { "Products" }
        (page::table(None, &["Name", "ID", "Owner", "Type", ""], &products, html! { "No products in this portfolio." }, |p| {
            let v = &p["ProductViewSummary"];
            html! {
                td { (s(v, "Name")) } td { code { (s(v, "ProductId")) } } td { (s(v, "Owner")) } td { (s(v, "Type")) }
                td { a href={ "/console/catalog/products/" (encode_query(&s(v, "ProductId"))) "/provision" } aria-label={ "Provision " (s(v, "Name")) } { "Provision" } }
            }
        }))
        h2 { "Constraints" }
        (page::table(None, &["Type", "Product", "Parameters", "Description"], &constraints.iter().zip(&parameters).collect::<Vec<_>>(), html! { "No constraints." }, |(c, params)| html! {
            td { (s(c, "Type")) }
            td { (product_name(&s(c, "ProductId"))) }
            td { code { (params) } }
            td { (s(c, "Description")) }
        }))
        h2 { "Principals" }
        (page::table(None, &["Principal", "Type"], &principals, html! { "No principals have access to this portfolio." }, |p| html! {
            td { code { (s(p, "PrincipalARN")) } } td { (s(p, "PrincipalType")) }
        }))
    };
    page::html(StatusCode::OK, page::layout(&name, Some(&signed), body))
}

/// `GET /console/catalog/provisioned`.
pub async fn provisioned(
    State(console): State<Arc<Console>>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let list = match all_pages(
        &principal,
        "servicecatalog",
        "SearchProvisionedProducts",
        json!({"AccessLevelFilter": {"Key": "Account", "Value": "self"}, "PageSize": 20}),
        "ProvisionedProducts",
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return page::api_error(&signed, &e),
    };
    let query = page::query(&parts);
    let body = html! {
        p { a href="/console/catalog" { "Portfolios" } " › Provisioned products" }
        h1 { "Provisioned products" }
        @if let Some(name) = query.get("terminated") {
            div.notice role="status" { p { "Termination of " (name) " started." } }
        }
        (page::table(
            Some(&format!("Provisioned products ({})", list.len())),
            &["Name", "Product", "Status", "Created", "Stack", ""],
            &list,
            html! { "No products are provisioned in this account. Provision one from a " a href="/console/catalog" { "portfolio" } "'s products." },
            |p| html! {
                td { (s(p, "Name")) br; code { (s(p, "Id")) } }
                td { (s(p, "ProductName")) }
                td {
                    (status_tag(&s(p, "Status")))
                    @if !s(p, "StatusMessage").is_empty() { br; (s(p, "StatusMessage")) }
                }
                td { (when(p, "CreatedTime")) }
                td { code { (s(p, "PhysicalId")) } }
                td {
                    @if s(p, "Status") != "UNDER_CHANGE" {
                        form method="post" action={ "/console/catalog/provisioned/" (encode_query(&s(p, "Id"))) "/terminate" } {
                            input type="hidden" name="csrf" value=(signed.csrf);
                            input type="hidden" name="name" value=(s(p, "Name"));
                            button.warning type="submit" aria-label={ "Terminate " (s(p, "Name")) } { "Terminate" }
                        }
                    }
                }
            },
        ))
    };
    page::html(
        StatusCode::OK,
        page::layout("Provisioned products", Some(&signed), body),
    )
}

/// `POST /console/catalog/provisioned/{id}/terminate`: `TerminateProvisionedProduct`.
pub async fn terminate(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    SignedForm {
        parts,
        signed,
        form,
    }: SignedForm,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let token: String = format!("{:032x}", rand::rng().random::<u128>());
    match principal
        .servicecatalog(
            "TerminateProvisionedProduct",
            json!({"ProvisionedProductId": id, "TerminateToken": token}),
        )
        .await
    {
        Ok(_) => page::redirect(&format!(
            "/console/catalog/provisioned?terminated={}",
            encode_query(form.get("name").unwrap_or(&id))
        )),
        Err(e) => page::api_error(&signed, &e),
    }
}
