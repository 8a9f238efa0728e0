//! Cloud verifiers. AWS: STS `GetCallerIdentity`, which any valid key may call whatever its
//! policies (docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html), signed
//! with Signature Version 4 (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html).

use super::http::{Client, Req};
use super::sign::{amz_date, hmac_sha256, now, sha256};
use super::{Creds, Provider, error, live, revoked};
use crate::finding::{Verification, VerifyStatus};

pub static PROVIDERS: &[&Provider] = &[&AWS];

pub static AWS: Provider = Provider {
    name: "aws",
    rules: &["aws-secret-access-key"],
    needs: &["key"],
    host: "sts.amazonaws.com",
    endpoint: "POST / Action=GetCallerIdentity",
    check: aws,
};

/// One SigV4 signature: returns the `Authorization` header value. `headers` are the signed
/// headers, lowercase names, sorted.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sigv4(
    key_id: &str,
    secret: &str,
    amz_date: &str,
    region: &str,
    service: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> String {
    let date = &amz_date[..8];
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let signed: Vec<&str> = headers.iter().map(|(k, _)| *k).collect();
    let signed = signed.join(";");
    let canonical = format!(
        "{method}\n{path}\n\n{canonical_headers}\n{signed}\n{}",
        hex::encode(sha256(body))
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(sha256(canonical.as_bytes()))
    );
    let mut k = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in [region, service, "aws4_request"] {
        k = hmac_sha256(&k, part.as_bytes());
    }
    let sig = hex::encode(hmac_sha256(&k, to_sign.as_bytes()));
    format!("AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders={signed}, Signature={sig}")
}

/// The text of the first `<tag>…</tag>` in an XML answer.
fn xml_tag<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&format!("</{tag}>"))?;
    Some(xml[start..start + len].trim())
}

fn aws(client: &Client, c: &Creds) -> Verification {
    let key_id = c.get("key").unwrap_or("");
    let secret = c.get("secret").unwrap_or("");
    if key_id.starts_with("ASIA") {
        return Verification::new(
            VerifyStatus::Unsupported,
            "",
            Some("temporary (ASIA) keys need their session token, which was not found".into()),
        );
    }
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    let resp = match client.send(|| {
        let date = amz_date(now());
        let auth = sigv4(
            key_id,
            secret,
            &date,
            "us-east-1",
            "sts",
            "POST",
            "/",
            &[
                ("content-type", content_type),
                ("host", AWS.host),
                ("x-amz-date", &date),
            ],
            body.as_bytes(),
        );
        Req::post(AWS.host, "/", body)
            .header("Content-Type", content_type)
            .header("X-Amz-Date", date)
            .header("Authorization", auth)
    }) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    if resp.status == 200 {
        let Some(arn) = xml_tag(&resp.body, "Arn") else {
            return error("malformed answer (no Arn)");
        };
        let mut v = live();
        v.account = Some(arn.to_string());
        return v;
    }
    match xml_tag(&resp.body, "Code") {
        Some("InvalidClientTokenId") => revoked("AWS does not know this access key id"),
        Some("SignatureDoesNotMatch") => {
            revoked("signature rejected: the secret does not match the key id")
        }
        Some("ExpiredToken") => revoked("the credentials have expired"),
        Some("AccessDenied") => {
            let mut v = live();
            v.reason = Some("key accepted; GetCallerIdentity denied by policy".into());
            v
        }
        _ => error(format!("unexpected answer (HTTP {})", resp.status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `get-vanilla` case of AWS's published Signature Version 4 test suite.
    #[test]
    fn sigv4_matches_the_published_get_vanilla_vector() {
        let auth = sigv4(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830T123600Z",
            "us-east-1",
            "service",
            "GET",
            "/",
            &[
                ("host", "example.amazonaws.com"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            b"",
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn xml_tags() {
        let x = "<R><GetCallerIdentityResult><Arn>arn:aws:iam::1:user/a</Arn></GetCallerIdentityResult></R>";
        assert_eq!(xml_tag(x, "Arn"), Some("arn:aws:iam::1:user/a"));
        assert_eq!(xml_tag(x, "Code"), None);
    }
}
