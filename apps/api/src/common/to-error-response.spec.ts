import { describe, expect, it } from '@jest/globals';
import { BadRequestException, NotFoundException } from '@nestjs/common';
import { DomainError } from '@wagw/domain';
import { toErrorResponse } from './to-error-response.js';

describe('toErrorResponse', () => {
  it('keeps domain errors as they are', () => {
    const r = toErrorResponse(new DomainError('failed_precondition', 'not paired', { a: 1 }), 'c1');
    expect(r).toEqual({
      status: 409,
      body: { error: { code: 'failed_precondition', message: 'not paired', details: { a: 1 } } },
      unexpected: false,
    });
  });

  it('maps fastify body errors to the contract', () => {
    const tooLarge = Object.assign(new Error('x'), {
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      statusCode: 413,
    });
    expect(toErrorResponse(tooLarge, 'c').body.error.code).toBe('payload_too_large');
    const badJson = Object.assign(new Error('x'), {
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
      statusCode: 400,
    });
    expect(toErrorResponse(badJson, 'c').status).toBe(400);
    const media = Object.assign(new Error('x'), {
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      statusCode: 415,
    });
    expect(toErrorResponse(media, 'c')).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_error' } },
    });
  });

  it('maps framework HTTP exceptions', () => {
    expect(toErrorResponse(new NotFoundException('Cannot GET /x'), 'c').body.error).toEqual({
      code: 'not_found',
      message: 'route not found',
      details: {},
    });
    expect(toErrorResponse(new BadRequestException('bad'), 'c').status).toBe(400);
  });

  it('hides anything unexpected behind a correlation id', () => {
    const r = toErrorResponse(
      new Error('relation "sessions" does not exist at ... SELECT'),
      'req-42',
    );
    expect(r.status).toBe(500);
    expect(r.unexpected).toBe(true);
    expect(r.body).toEqual({
      error: { code: 'internal', message: 'internal error', details: { correlationId: 'req-42' } },
    });
    expect(JSON.stringify(r.body)).not.toContain('SELECT');
  });
});
