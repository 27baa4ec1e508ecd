//! A launch template version's data as EC2 describes it, turned into the data of a
//! new version that differs only in its AMI.
//!
//! Why: a deploy must carry over every setting of the version the group runs
//! now. `SourceVersion` would do that on AWS, but emulators ignore it, and a
//! version built from explicit data says exactly what it holds. kiln sends both:
//! the full data below, and `SourceVersion`, so on AWS a setting this conversion
//! does not carry (elastic GPUs and inference accelerators, attribute-based
//! instance requirements, operator, network performance, secondary interfaces)
//! is still inherited from the source version.

use aws_sdk_ec2::types::{
    CreditSpecificationRequest, LaunchTemplateBlockDeviceMappingRequest,
    LaunchTemplateCapacityReservationSpecificationRequest, LaunchTemplateCpuOptionsRequest,
    LaunchTemplateEbsBlockDeviceRequest, LaunchTemplateEnclaveOptionsRequest,
    LaunchTemplateHibernationOptionsRequest, LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateInstanceMaintenanceOptionsRequest, LaunchTemplateInstanceMarketOptionsRequest,
    LaunchTemplateInstanceMetadataOptionsRequest,
    LaunchTemplateInstanceNetworkInterfaceSpecificationRequest,
    LaunchTemplateLicenseConfigurationRequest, LaunchTemplatePlacementRequest,
    LaunchTemplatePrivateDnsNameOptionsRequest, LaunchTemplateSpotMarketOptionsRequest,
    LaunchTemplateTagSpecificationRequest, LaunchTemplatesMonitoringRequest,
    RequestLaunchTemplateData, ResponseLaunchTemplateData,
};

use crate::model::AmiId;

/// The data of `source` with `image` as its AMI.
pub fn with_image(source: &ResponseLaunchTemplateData, image: &AmiId) -> RequestLaunchTemplateData {
    let s = source;
    RequestLaunchTemplateData::builder()
        .image_id(image.as_str())
        .set_kernel_id(s.kernel_id.clone())
        .set_ram_disk_id(s.ram_disk_id.clone())
        .set_ebs_optimized(s.ebs_optimized)
        .set_instance_type(s.instance_type.clone())
        .set_key_name(s.key_name.clone())
        .set_user_data(s.user_data.clone())
        .set_security_group_ids(s.security_group_ids.clone())
        .set_security_groups(s.security_groups.clone())
        .set_disable_api_termination(s.disable_api_termination)
        .set_disable_api_stop(s.disable_api_stop)
        .set_instance_initiated_shutdown_behavior(s.instance_initiated_shutdown_behavior.clone())
        .set_iam_instance_profile(s.iam_instance_profile.as_ref().map(|p| {
            LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                .set_arn(p.arn.clone())
                .set_name(p.name.clone())
                .build()
        }))
        .set_block_device_mappings(s.block_device_mappings.as_ref().map(|mappings| {
            mappings
                .iter()
                .map(|m| {
                    LaunchTemplateBlockDeviceMappingRequest::builder()
                        .set_device_name(m.device_name.clone())
                        .set_virtual_name(m.virtual_name.clone())
                        .set_no_device(m.no_device.clone())
                        .set_ebs(m.ebs.as_ref().map(|e| {
                            LaunchTemplateEbsBlockDeviceRequest::builder()
                                .set_encrypted(e.encrypted)
                                .set_delete_on_termination(e.delete_on_termination)
                                .set_iops(e.iops)
                                .set_kms_key_id(e.kms_key_id.clone())
                                .set_snapshot_id(e.snapshot_id.clone())
                                .set_volume_size(e.volume_size)
                                .set_volume_type(e.volume_type.clone())
                                .set_throughput(e.throughput)
                                .build()
                        }))
                        .build()
                })
                .collect()
        }))
        .set_network_interfaces(s.network_interfaces.as_ref().map(|interfaces| {
            interfaces
                .iter()
                .map(|n| {
                    LaunchTemplateInstanceNetworkInterfaceSpecificationRequest::builder()
                        .set_associate_carrier_ip_address(n.associate_carrier_ip_address)
                        .set_associate_public_ip_address(n.associate_public_ip_address)
                        .set_delete_on_termination(n.delete_on_termination)
                        .set_description(n.description.clone())
                        .set_device_index(n.device_index)
                        .set_groups(n.groups.clone())
                        .set_interface_type(n.interface_type.clone())
                        .set_network_interface_id(n.network_interface_id.clone())
                        .set_private_ip_address(n.private_ip_address.clone())
                        .set_private_ip_addresses(n.private_ip_addresses.clone())
                        .set_secondary_private_ip_address_count(
                            n.secondary_private_ip_address_count,
                        )
                        .set_subnet_id(n.subnet_id.clone())
                        .set_network_card_index(n.network_card_index)
                        .build()
                })
                .collect()
        }))
        .set_monitoring(s.monitoring.as_ref().map(|m| {
            LaunchTemplatesMonitoringRequest::builder()
                .set_enabled(m.enabled)
                .build()
        }))
        .set_placement(s.placement.as_ref().map(|p| {
            LaunchTemplatePlacementRequest::builder()
                .set_availability_zone(p.availability_zone.clone())
                .set_affinity(p.affinity.clone())
                .set_group_name(p.group_name.clone())
                .set_host_id(p.host_id.clone())
                .set_tenancy(p.tenancy.clone())
                .set_spread_domain(p.spread_domain.clone())
                .set_host_resource_group_arn(p.host_resource_group_arn.clone())
                .set_partition_number(p.partition_number)
                .set_group_id(p.group_id.clone())
                .build()
        }))
        .set_tag_specifications(s.tag_specifications.as_ref().map(|specs| {
            specs
                .iter()
                .map(|t| {
                    LaunchTemplateTagSpecificationRequest::builder()
                        .set_resource_type(t.resource_type.clone())
                        .set_tags(t.tags.clone())
                        .build()
                })
                .collect()
        }))
        .set_instance_market_options(s.instance_market_options.as_ref().map(|m| {
            LaunchTemplateInstanceMarketOptionsRequest::builder()
                .set_market_type(m.market_type.clone())
                .set_spot_options(m.spot_options.as_ref().map(|o| {
                    LaunchTemplateSpotMarketOptionsRequest::builder()
                        .set_max_price(o.max_price.clone())
                        .set_spot_instance_type(o.spot_instance_type.clone())
                        .set_block_duration_minutes(o.block_duration_minutes)
                        .set_valid_until(o.valid_until)
                        .set_instance_interruption_behavior(
                            o.instance_interruption_behavior.clone(),
                        )
                        .build()
                }))
                .build()
        }))
        .set_credit_specification(s.credit_specification.as_ref().map(|c| {
            CreditSpecificationRequest::builder()
                .set_cpu_credits(c.cpu_credits.clone())
                .build()
        }))
        .set_cpu_options(s.cpu_options.as_ref().map(|c| {
            LaunchTemplateCpuOptionsRequest::builder()
                .set_core_count(c.core_count)
                .set_threads_per_core(c.threads_per_core)
                .set_amd_sev_snp(c.amd_sev_snp.clone())
                .build()
        }))
        .set_capacity_reservation_specification(s.capacity_reservation_specification.as_ref().map(
            |c| {
                LaunchTemplateCapacityReservationSpecificationRequest::builder()
                    .set_capacity_reservation_preference(c.capacity_reservation_preference.clone())
                    .build()
            },
        ))
        .set_license_specifications(s.license_specifications.as_ref().map(|licenses| {
            licenses
                .iter()
                .map(|l| {
                    LaunchTemplateLicenseConfigurationRequest::builder()
                        .set_license_configuration_arn(l.license_configuration_arn.clone())
                        .build()
                })
                .collect()
        }))
        .set_hibernation_options(s.hibernation_options.as_ref().map(|h| {
            LaunchTemplateHibernationOptionsRequest::builder()
                .set_configured(h.configured)
                .build()
        }))
        .set_metadata_options(s.metadata_options.as_ref().map(|m| {
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .set_http_tokens(m.http_tokens.clone())
                .set_http_put_response_hop_limit(m.http_put_response_hop_limit)
                .set_http_endpoint(m.http_endpoint.clone())
                .set_instance_metadata_tags(m.instance_metadata_tags.clone())
                .build()
        }))
        .set_enclave_options(s.enclave_options.as_ref().map(|e| {
            LaunchTemplateEnclaveOptionsRequest::builder()
                .set_enabled(e.enabled)
                .build()
        }))
        .set_private_dns_name_options(s.private_dns_name_options.as_ref().map(|p| {
            LaunchTemplatePrivateDnsNameOptionsRequest::builder()
                .set_hostname_type(p.hostname_type.clone())
                .set_enable_resource_name_dns_a_record(p.enable_resource_name_dns_a_record)
                .set_enable_resource_name_dns_aaaa_record(p.enable_resource_name_dns_aaaa_record)
                .build()
        }))
        .set_maintenance_options(s.maintenance_options.as_ref().map(|m| {
            LaunchTemplateInstanceMaintenanceOptionsRequest::builder()
                .set_auto_recovery(m.auto_recovery.clone())
                .build()
        }))
        .build()
}
