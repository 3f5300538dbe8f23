package dev.strata.schemas.net;

/**
 * The local stack's default ports (DESIGN.md), declared once: each component's command takes its
 * own from here, and {@code strata up} its options' defaults. Every one is configurable.
 */
public final class StrataPorts {

    public static final int KAFKA = 9092;
    public static final int KAFKA_CONTROLLER = 9093;
    public static final int REGISTRY = 8081;
    public static final int GATEWAY_HTTP = 8080;
    public static final int MQTT = 1883;
    public static final int SERVING = 8088;
    /** The speed job's Flink web UI (local mode), or the JobManager's REST API and UI (cluster mode). */
    public static final int FLINK_WEB = 8083;
    /** Prometheus reporter of the speed job (local mode) or the TaskManager (cluster mode). */
    public static final int SPEED_METRICS = 9249;

    public static final int BATCH_METRICS = 9250;
    /** Cluster mode: the JobManager's RPC port. */
    public static final int FLINK_RPC = 6123;
    /** Cluster mode: the JobManager's Prometheus reporter. */
    public static final int JOBMANAGER_METRICS = 9251;
    /** {@code strata up --s3}: the local S3-compatible store the lake lives on. */
    public static final int S3 = 9000;

    private StrataPorts() {}
}
