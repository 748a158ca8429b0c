import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { validateEnvironment } from './env';
import { ALL_CONFIG_NAMESPACES } from './namespaces';

/** Loads every namespace and validates the environment once, at import time of the AppModule. */
@Global()
@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      cache: true,
      load: ALL_CONFIG_NAMESPACES,
      validate: (env) => validateEnvironment(env as Record<string, string | undefined>),
    }),
  ],
})
export class AppConfigModule {}
