//! One captcha and one SMS code through the rules, `N` times (default 1), on
//! the memory store with the discard sender: what `scripts/callgrind.sh`
//! counts instructions of.
//!
//!     cargo run --release -p passport-verify --example one_flow -- 100

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use code_store::{MemoryConfig, MemoryStore};
use verify::captcha_render::{Params, Renderer, Style};
use verify::{ClientIp, DiscardSender, ImageCodeId, MobileRule, Passport, Policy};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("N is a whole number"))
        .unwrap_or(1);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let passport = Passport::new(
            Arc::new(MemoryStore::new(MemoryConfig::default())),
            Arc::new(DiscardSender),
            // The first look, so that a change to the rules is measured
            // against the same drawing work as before; STYLE=crowded
            // measures the default.
            Renderer::new(Params {
                style: match std::env::var("STYLE").as_deref() {
                    Ok("crowded") => Style::Crowded,
                    _ => Style::Classic,
                },
                ..Params::default()
            })
            .expect("renderer"),
            Policy::default(),
        );
        for i in 0..n {
            // One client per flow: the per-IP limits stay on, as deployed.
            let ip = ClientIp(IpAddr::V4(Ipv4Addr::from_bits(0x0a00_0000 + i as u32)));
            let id = ImageCodeId::parse(&format!("00000000-0000-4000-8000-{i:012}")).expect("id");
            let mobile = MobileRule::default()
                .parse(&format!("138{i:08}"))
                .expect("mobile");
            let captcha = passport.issue_captcha(&id, &ip).await.expect("captcha");
            passport
                .send_sms_code(&mobile, &captcha.text, &id, &ip)
                .await
                .expect("send");
        }
    });
}
