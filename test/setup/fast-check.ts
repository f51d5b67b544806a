/**
 * fast-check's default size draws arrays of about ten elements whatever their maxLength, which
 * leaves long-sequence properties (cache and queue reference models, trace round trips, engine
 * shortcuts) testing short sequences only. Every property here draws up to its maxLength.
 */
import fc from 'fast-check';

fc.configureGlobal({ baseSize: 'xlarge' });
