package dev.cfn.ai.model;

import java.util.Objects;

/**
 * A provider and a model on it: where a route sends calls, or one of its fallbacks.
 *
 * @param provider the provider's configured name
 * @param model the model, an alias of the provider, or null for the provider's default model
 */
public record ModelTarget(String provider, String model) {
  public ModelTarget {
    Objects.requireNonNull(provider, "provider");
    model = model == null || model.isBlank() ? null : model;
  }

  @Override
  public String toString() {
    return model == null ? provider : provider + "/" + model;
  }
}
