package dev.strata.batch.transform;

import dev.strata.schemas.transforms.TransformDefinition;

/** A transform that cannot run, with the transform named (and the inputs, when they are known). */
public final class TransformException extends Exception {
    private static final long serialVersionUID = 1L;

    TransformException(TransformDefinition transform, String problem) {
        super("transform '" + transform.name() + "': " + problem);
    }

    TransformException(TransformDefinition transform, String problem, Throwable cause) {
        super("transform '" + transform.name() + "': " + problem, cause);
    }

    TransformException(String message, Throwable cause) {
        super(message, cause);
    }
}
