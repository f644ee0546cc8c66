package dev.cfn.core;

/**
 * An {@link AgentType} as registered in one runtime: the spec, the stages of that runtime's message
 * path, and the resolved dispatcher throughput.
 */
final class RegisteredType {
  private static final ClassValue<Boolean> OVERRIDES_ON_START =
      new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
          try {
            return type.getMethod("onStart", AgentContext.class).getDeclaringClass() != Agent.class;
          } catch (NoSuchMethodException e) {
            return true;
          }
        }
      };

  final AgentType spec;
  final Stages stages;
  final int throughput;

  RegisteredType(AgentType spec, Stages stages, int defaultThroughput) {
    this.spec = spec;
    this.stages = stages;
    this.throughput = spec.throughput() > 0 ? spec.throughput() : defaultThroughput;
  }

  /** True when {@code agent} overrides {@link Agent#onStart}, so it must be scheduled at spawn. */
  boolean hasOnStart(Agent agent) {
    return OVERRIDES_ON_START.get(agent.getClass());
  }
}
