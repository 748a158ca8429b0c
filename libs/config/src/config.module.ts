import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { validateEnvironment } from './env';
import { ALL_CONFIG_NAMESPACES } from './namespaces';

/** Loads every namespace and validates the environment once, at import time of the AppModule. */
@Module({
  imports: [
    ConfigModule.forRoot({
      // Global as @nestjs/config intends: every provider reads its namespace (`@Inject(xConfig.KEY)`) from here.
      isGlobal: true,
      ignoreEnvFile: true,
      cache: true,
      load: ALL_CONFIG_NAMESPACES,
      validate: (env) => validateEnvironment(env as Record<string, string | undefined>),
    }),
  ],
})
export class AppConfigModule {}
