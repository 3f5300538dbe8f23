package dev.strata.gateway.mqtt;

import dev.strata.gateway.auth.Principal;
import dev.strata.gateway.validation.EventParser.Parsed;
import dev.strata.gateway.validation.MalformedBodyException;
import dev.strata.schemas.Event;
import dev.strata.schemas.http.ValidationError;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.vertx.core.Context;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.codes.MqttDisconnectReasonCode;
import io.vertx.mqtt.messages.codes.MqttPubAckReasonCode;
import io.vertx.mqtt.messages.codes.MqttPubRecReasonCode;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connected client of the {@link IngestMqttServer}: its publishes in receipt order, each
 * acknowledged (or refused with a reason code, or dead-lettered) once Kafka has answered. Touched
 * only on its endpoint's event loop.
 */
final class MqttSession {

    private static final Logger LOG = LoggerFactory.getLogger(MqttSession.class);

    private final IngestMqttServer server;
    final MqttEndpoint endpoint;
    private final Principal principal;
    private final boolean v5;
    final Context context;
    private final Deque<Pending> order = new ArrayDeque<>();
    /** QoS 2 packet ids received and not yet released by PUBREL. */
    private final Set<Integer> qos2Unreleased = new HashSet<>();
    /** QoS 1 and 2 publishes counted against the Receive Maximum. */
    private int inFlight;

    boolean closed;

    MqttSession(IngestMqttServer server, MqttEndpoint endpoint, Principal principal, boolean v5, Context context) {
        this.server = server;
        this.endpoint = endpoint;
        this.principal = principal;
        this.v5 = v5;
        this.context = context;
    }

    private String origin(String topic) {
        return "mqtt" + (v5 ? "5" : "3.1.1") + " client=" + endpoint.clientIdentifier() + " topic=" + topic;
    }

    void publish(MqttPublishMessage message) {
        int qos = message.qosLevel().value();
        if (qos == 2 && qos2Unreleased.contains(message.messageId())) {
            // A resent QoS 2 publish: it is already appended (or being appended), never twice.
            Pending earlier = order.stream()
                    .filter(p -> p.packetId == message.messageId())
                    .findFirst()
                    .orElse(null);
            if (earlier == null) {
                endpoint.publishReceived(message.messageId());
            }
            return;
        }
        Pending pending = null;
        if (qos >= 1) {
            if (++inFlight > server.settings.receiveMaximum()) {
                LOG.warn(
                        "MQTT client {} exceeded the Receive Maximum of {}: disconnecting",
                        endpoint.clientIdentifier(),
                        server.settings.receiveMaximum());
                server.metrics.records("mqtt", "rejected", "receive_maximum_exceeded", 1);
                disconnect(MqttDisconnectReasonCode.RECEIVE_MAXIMUM_EXCEEDED);
                return;
            }
            pending = new Pending(message.messageId(), qos);
            order.addLast(pending);
            if (qos == 2) {
                qos2Unreleased.add(message.messageId());
            }
        }
        if (message.isRetain() && v5) {
            // The CONNACK said Retain Available 0: a retained publish is a protocol error (MQTT 5, 3.3.1.3).
            server.metrics.records("mqtt", "rejected", "retain_not_supported", 1);
            disconnect(MqttDisconnectReasonCode.RETAIN_NOT_SUPPORTED);
            return;
        }
        String topic = message.topicName();
        byte[] payload = message.payload().getBytes();
        if (topic == null
                || !topic.startsWith(IngestMqttServer.TOPIC_PREFIX)
                || topic.length() == IngestMqttServer.TOPIC_PREFIX.length()
                || topic.indexOf('+') >= 0
                || topic.indexOf('#') >= 0) {
            refuse(
                    pending,
                    MqttPubAckReasonCode.TOPIC_NAME_INVALID,
                    "topic_invalid",
                    "Topic '" + topic + "' is not strata/events/{source}",
                    null,
                    payload,
                    topic);
            return;
        }
        String topicSource = topic.substring(IngestMqttServer.TOPIC_PREFIX.length());
        if (payload.length > server.settings.maxPayloadBytes()) {
            refuse(
                    pending,
                    MqttPubAckReasonCode.PAYLOAD_FORMAT_INVALID,
                    "too_large",
                    "Payload of " + payload.length + " bytes is larger than the limit of "
                            + server.settings.maxPayloadBytes() + " bytes",
                    topicSource,
                    payload,
                    topic);
            return;
        }
        Parsed parsed;
        try {
            parsed = server.parser.parseMqttPayload(payload, topicSource);
        } catch (MalformedBodyException e) {
            refuse(
                    pending,
                    MqttPubAckReasonCode.PAYLOAD_FORMAT_INVALID,
                    "malformed",
                    e.getMessage(),
                    topicSource,
                    payload,
                    topic);
            return;
        }
        if (!parsed.valid()) {
            String reasons =
                    parsed.errors().stream().map(ValidationError::describe).collect(Collectors.joining("; "));
            refuse(
                    pending,
                    MqttPubAckReasonCode.PAYLOAD_FORMAT_INVALID,
                    "invalid",
                    reasons,
                    topicSource,
                    payload,
                    topic);
            return;
        }
        Event event = parsed.events().get(0);
        if (!principal.mayPublishAs(event.getSource())) {
            refuse(
                    pending,
                    MqttPubAckReasonCode.NOT_AUTHORIZED,
                    "forbidden",
                    "Token '" + principal.name() + "' may not publish as source '" + event.getSource() + "'",
                    topicSource,
                    payload,
                    topic);
            return;
        }
        OptionalLong wait = server.rateLimiter.tryConsume(principal, 1);
        if (wait.isPresent()) {
            // Not a dead letter: the event is fine, the client resends it later.
            server.metrics.records("mqtt", "rejected", "rate_limited", 1);
            if (v5) {
                complete(
                        pending,
                        MqttPubAckReasonCode.QUOTA_EXCEEDED,
                        "Token '" + principal.name() + "' is over its rate limit of "
                                + server.rateLimiter.burst().orElse(0) + " records/s (--rate-limit): resend in "
                                + wait.getAsLong() + " s");
            } else if (pending != null) {
                // 3.1.1 has no reason code: never acknowledged, resent after reconnecting.
                disconnect(MqttDisconnectReasonCode.QUOTA_EXCEEDED);
            }
            return;
        }
        long bytes = payload.length;
        Pending p = pending;
        boolean admitted =
                server.limiter.acquireOrWait(bytes, () -> context.runOnContext(v -> append(event, bytes, p)));
        if (!admitted) {
            server.metrics.records("mqtt", "rejected", "overloaded", 1);
            if (p != null && v5) {
                complete(p, MqttPubAckReasonCode.QUOTA_EXCEEDED, "Gateway overloaded: retry later");
            } else {
                // No reason code to give and no room to take it: let the client resend later.
                disconnect(MqttDisconnectReasonCode.QUOTA_EXCEEDED);
            }
        }
    }

    private void append(Event event, long bytes, Pending pending) {
        long started = System.nanoTime();
        server.appender.append(event).whenComplete((metadata, error) -> {
            server.limiter.release(bytes);
            server.metrics.produceLatency().record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            context.runOnContext(v -> {
                if (error == null) {
                    server.metrics.records("mqtt", "accepted", "ok", 1);
                    complete(pending, MqttPubAckReasonCode.SUCCESS, null);
                } else {
                    server.metrics.records("mqtt", "failed", "kafka", 1);
                    LOG.warn(
                            "Kafka did not acknowledge an event of MQTT client {}: {}",
                            endpoint.clientIdentifier(),
                            error.toString());
                    if (pending != null && v5) {
                        complete(
                                pending,
                                MqttPubAckReasonCode.UNSPECIFIED_ERROR,
                                "Kafka did not acknowledge the event; resend it");
                    } else if (pending != null) {
                        // MQTT 3.1.1 has no failure PUBACK: no acknowledgement, and the client resends.
                        disconnect(MqttDisconnectReasonCode.UNSPECIFIED_ERROR);
                    }
                }
            });
        });
    }

    /** Answers with a reason code where the client can read one; else dead-letters, then acks. */
    private void refuse(
            Pending pending,
            MqttPubAckReasonCode code,
            String reason,
            String detail,
            String key,
            byte[] payload,
            String topic) {
        if (pending != null && v5) {
            server.metrics.records("mqtt", "rejected", reason, 1);
            complete(pending, code, detail);
            return;
        }
        server.appender
                .deadLetter(key, payload, reason, detail, origin(topic))
                .whenComplete((m, error) -> context.runOnContext(v -> {
                    if (error == null) {
                        server.metrics.records("mqtt", "dead_lettered", reason, 1);
                        complete(pending, MqttPubAckReasonCode.SUCCESS, null);
                    } else {
                        server.metrics.records("mqtt", "failed", "kafka", 1);
                        if (pending != null) {
                            disconnect(MqttDisconnectReasonCode.UNSPECIFIED_ERROR);
                        }
                    }
                }));
    }

    private void complete(Pending pending, MqttPubAckReasonCode code, String reason) {
        if (pending == null) {
            return;
        }
        pending.done = true;
        pending.code = code;
        pending.reason = reason;
        while (!order.isEmpty() && order.peekFirst().done) {
            Pending head = order.pollFirst();
            if (closed || !endpoint.isConnected()) {
                continue;
            }
            MqttProperties props =
                    head.reason == null ? MqttProperties.NO_PROPERTIES : IngestMqttServer.reasonString(v5, head.reason);
            if (head.qos == 1) {
                inFlight--;
                if (v5) {
                    endpoint.publishAcknowledge(head.packetId, head.code, props);
                } else {
                    endpoint.publishAcknowledge(head.packetId);
                }
            } else if (head.code == MqttPubAckReasonCode.SUCCESS) {
                endpoint.publishReceived(head.packetId);
            } else {
                // A refused QoS 2 publish ends at its PUBREC (MQTT 5 §4.3.3).
                inFlight--;
                qos2Unreleased.remove(head.packetId);
                endpoint.publishReceived(head.packetId, MqttPubRecReasonCode.valueOf(head.code.value()), props);
            }
        }
    }

    void release(int packetId) {
        if (qos2Unreleased.remove(packetId)) {
            inFlight--;
        }
        endpoint.publishComplete(packetId);
    }

    void disconnect(MqttDisconnectReasonCode code) {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (v5 && endpoint.isConnected()) {
                endpoint.disconnect(code, MqttProperties.NO_PROPERTIES); // sends DISCONNECT, then closes
            } else {
                endpoint.close();
            }
        } catch (IllegalStateException | IllegalArgumentException alreadyClosed) {
            // the client left first
        }
    }

    void shutdown() {
        context.runOnContext(v -> disconnect(MqttDisconnectReasonCode.SERVER_SHUTTING_DOWN));
    }

    /** A QoS 1 or 2 publish waiting for its acknowledgement, kept in receipt order. */
    private static final class Pending {
        final int packetId;
        final int qos;
        boolean done;
        MqttPubAckReasonCode code;
        String reason;

        Pending(int packetId, int qos) {
            this.packetId = packetId;
            this.qos = qos;
        }
    }
}
