//! The native baseline: aws-sdk-ec2's DescribeStoreImageTasks paginator, configured as
//! libstoretasks configures its client (static credentials, endpoint URL, region, the SDK's
//! hyper client with rustls on ring), collecting every task of the listing into one Vec.

mod common;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use common::{ACCESS_KEY, Args, PAGE_SIZE, REGION, SECRET_KEY, measure};

fn main() {
    let args = Args::parse("storetasks-bench-sdk");
    // The library's runtime: two worker threads.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client = runtime.block_on(async {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&args.endpoint)
            .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "bench"))
            .http_client(aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https())
            .load()
            .await;
        aws_sdk_ec2::Client::new(&config)
    });
    measure(&args, || {
        runtime.block_on(async {
            let mut tasks = Vec::new();
            let mut items = client.describe_store_image_tasks().max_results(PAGE_SIZE).into_paginator().items().send();
            while let Some(task) = items.next().await {
                tasks.push(task.expect("DescribeStoreImageTasks failed"));
            }
            tasks.len()
        })
    });
}
