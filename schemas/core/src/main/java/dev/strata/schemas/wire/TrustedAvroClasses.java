package dev.strata.schemas.wire;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.util.ClassSecurityValidator;
import org.apache.avro.util.ClassSecurityValidator.ClassSecurityPredicate;

/**
 * Avro 1.12 refuses to instantiate classes named in a schema unless they are trusted. The serdes
 * trust exactly the generated classes they are given (a record handed to the serializer, the
 * reader class of a deserializer), on top of whatever the application already trusts.
 */
final class TrustedAvroClasses {

    private static final Set<Class<?>> TRUSTED = ConcurrentHashMap.newKeySet();

    static {
        ClassSecurityPredicate previous = ClassSecurityValidator.getGlobal();
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(previous, TRUSTED::contains));
    }

    private TrustedAvroClasses() {}

    static void trust(Class<?> generatedClass) {
        TRUSTED.add(generatedClass);
    }
}
