package dev.strata.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.strata.registry.LogRecord.ConfigEntry;
import dev.strata.registry.LogRecord.SchemaEntry;
import dev.strata.registry.SchemaStore.Registration;
import org.junit.jupiter.api.Test;

class SchemaStoreTest {

    static final String V1 = """
            {"type":"record","name":"Reading","fields":[{"name":"a","type":"string"}]}""";
    /** V1 plus a field with a default: backward and forward compatible. */
    static final String V2_WITH_DEFAULT = """
            {"type":"record","name":"Reading","fields":[{"name":"a","type":"string"},
             {"name":"b","type":"int","default":0}]}""";
    /** V1 plus a field without a default: not backward compatible. */
    static final String V2_NO_DEFAULT = """
            {"type":"record","name":"Reading","fields":[{"name":"a","type":"string"},{"name":"b","type":"int"}]}""";
    /** V1 without its only field: backward compatible, not forward compatible. */
    static final String V2_DROPPED = """
            {"type":"record","name":"Reading","fields":[]}""";

    private final SchemaStore store = new SchemaStore(CompatibilityLevel.BACKWARD);

    /** Registers as the registry does: plan, then apply what the log would return. */
    private int register(String subject, String schema) {
        Registration plan = store.planRegistration(subject, schema);
        plan.toAppend().ifPresent(store::apply);
        return plan.id();
    }

    @Test
    void assignsIdsAndVersionsAndReturnsTheSameIdForTheSameSchema() {
        int first = register("s-value", V1);
        int again = register("s-value", V1.replace(" ", "  "));
        int second = register("s-value", V2_WITH_DEFAULT);

        assertThat(first).isEqualTo(1);
        assertThat(again).isEqualTo(first);
        assertThat(second).isEqualTo(2);
        assertThat(store.versions("s-value")).containsExactly(1, 2);
        assertThat(store.version("s-value", -1).id()).isEqualTo(2);
    }

    @Test
    void sameSchemaUnderAnotherSubjectSharesItsId() {
        int a = register("a-value", V1);
        int b = register("b-value", V1);

        assertThat(b).isEqualTo(a);
        assertThat(store.version("b-value", 1).version()).isEqualTo(1);
        assertThat(store.versionsOfId(a))
                .extracting(SchemaStore.Version::subject)
                .containsExactly("a-value", "b-value");
    }

    @Test
    void refusesABackwardIncompatibleSchemaWithConfluentsMessage() {
        register("s-value", V1);

        assertThatThrownBy(() -> register("s-value", V2_NO_DEFAULT))
                .isInstanceOfSatisfying(RegistryError.class, e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e.errorCode()).isEqualTo(409);
                })
                .hasMessageStartingWith(
                        "Schema being registered is incompatible with an earlier schema for subject \"s-value\"")
                .hasMessageContaining("READER_FIELD_MISSING_DEFAULT_VALUE")
                .hasMessageContaining("{compatibility: 'BACKWARD'}");
        assertThat(store.versions("s-value")).containsExactly(1);
    }

    @Test
    void forwardLevelRefusesWhatOldReadersCannotRead() {
        store.apply(new ConfigEntry("s-value", CompatibilityLevel.FORWARD));
        register("s-value", V1);

        assertThatThrownBy(() -> register("s-value", V2_DROPPED)).isInstanceOf(RegistryError.class);
        assertThat(register("s-value", V2_WITH_DEFAULT)).isEqualTo(2);
    }

    @Test
    void transitiveLevelChecksEveryEarlierVersionNotOnlyTheLatest() {
        String v1 = """
                {"type":"record","name":"R","fields":[{"name":"x","type":"int"}]}""";
        String v2 = """
                {"type":"record","name":"R","fields":[]}""";
        // Reads v2's data (x gets its default) but not v1's (int is not a string).
        String v3 = """
                {"type":"record","name":"R","fields":[{"name":"x","type":"string","default":"a"}]}""";
        store.apply(new ConfigEntry("transitive-value", CompatibilityLevel.BACKWARD_TRANSITIVE));
        for (String subject : new String[] {"latest-only-value", "transitive-value"}) {
            register(subject, v1);
            register(subject, v2);
        }

        assertThat(register("latest-only-value", v3)).isPositive();
        assertThatThrownBy(() -> register("transitive-value", v3))
                .isInstanceOf(RegistryError.class)
                .hasMessageContaining("TYPE_MISMATCH")
                .hasMessageContaining("{oldSchemaVersion: 1}");
        assertThat(store.checkCompatibility("transitive-value", null, v3)).isNotEmpty();
        assertThat(store.checkCompatibility("transitive-value", 2, v3)).isEmpty();
    }

    @Test
    void noneLevelAcceptsAnything() {
        store.apply(new ConfigEntry(null, CompatibilityLevel.NONE));
        register("s-value", V1);

        assertThat(register("s-value", V2_NO_DEFAULT)).isEqualTo(2);
    }

    @Test
    void rejectsAnInvalidSchemaWith42201() {
        assertThatThrownBy(() -> register("s-value", "{\"type\":\"record\",\"name\":\"X\"}"))
                .isInstanceOfSatisfying(
                        RegistryError.class, e -> assertThat(e.errorCode()).isEqualTo(42201))
                .hasMessageStartingWith("Invalid schema");
        assertThatThrownBy(() -> register("s-value", "not json"))
                .isInstanceOfSatisfying(
                        RegistryError.class, e -> assertThat(e.errorCode()).isEqualTo(42201));
    }

    @Test
    void unknownSubjectVersionAndIdGiveConfluentsCodes() {
        register("s-value", V1);

        assertThatThrownBy(() -> store.versions("nope"))
                .isInstanceOfSatisfying(
                        RegistryError.class, e -> assertThat(e.errorCode()).isEqualTo(40401))
                .hasMessage("Subject 'nope' not found.");
        assertThatThrownBy(() -> store.version("s-value", 7))
                .isInstanceOfSatisfying(
                        RegistryError.class, e -> assertThat(e.errorCode()).isEqualTo(40402));
        assertThatThrownBy(() -> store.schemaById(99))
                .isInstanceOfSatisfying(
                        RegistryError.class, e -> assertThat(e.errorCode()).isEqualTo(40403));
        assertThatThrownBy(() -> store.lookup("s-value", V2_WITH_DEFAULT))
                .isInstanceOfSatisfying(
                        RegistryError.class, e -> assertThat(e.errorCode()).isEqualTo(40403));
    }

    @Test
    void stateIsRebuiltFromTheLogAlone() {
        SchemaStore replica = new SchemaStore(CompatibilityLevel.BACKWARD);
        replica.apply(new SchemaEntry("s-value", 1, 5, SchemaStore.canonical(V1), false));
        replica.apply(new ConfigEntry("s-value", CompatibilityLevel.NONE));

        assertThat(replica.lookup("s-value", V1).id()).isEqualTo(5);
        assertThat(replica.effectiveLevel("s-value")).isEqualTo(CompatibilityLevel.NONE);
        // The next new schema continues after the highest id seen in the log.
        assertThat(replica.planRegistration("s-value", V2_NO_DEFAULT).id()).isEqualTo(6);
    }
}
