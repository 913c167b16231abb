package io.teller.common.cluster;

/** What a node holds in the Hazelcast cluster. */
public enum ClusterRole {
  /** A registry node: holds partitions of the cluster's data, with backups. */
  DATA,
  /** A balancer or backend: joins the event bus and membership, holds no data. */
  LITE
}
