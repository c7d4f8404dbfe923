-- products: the code table of product codes, with the push topic and family Coface files them under.
-- grain: one row per product code the API documents
-- key: product_code
-- upstream: decision_history
-- materialized: view
--
-- topic: the push notification topic of the product (NOTIFICATION - PUSH's table); family: what the
-- product is; gives_cover: a credit insurance cover whose amount is exposure (the other products inform:
-- opinions, scores, extensions of due date). seen_in_history counts the decision versions of the product.

with

codes as (

    select * from (
        values
            ('CREDITLIMIT', 'credit_insurance_cover', 'credit limit', true),
            ('ECL', 'credit_insurance_cover', 'credit limit (express)', true),
            ('ARATINGLIMIT', 'credit_insurance_cover', 'credit limit from a rating', true),
            ('ILU', 'credit_insurance_cover', 'credit limit', true),
            ('TOPLINER', 'credit_insurance_special_cover', 'special cover (top-up)', true),
            ('OCL', 'credit_insurance_special_cover', 'special cover', true),
            ('CCO', 'coface_opinion', 'customized credit opinion', false),
            ('ARATING', 'scoring', 'score', false),
            ('ARATINGCHMON', 'scoring', 'score, monitored', false),
            ('SCORECHECK', 'scoring', 'score (DRA)', false),
            ('SCOREMON', 'scoring', 'score, monitored (DRA)', false),
            ('ARATINGMON', 'scoring', 'rating, monitored', false),
            ('EDD', 'extension_of_due_date', 'extension of due date', false)
    ) as documented (product_code, topic, family, gives_cover)

),

seen as (

    select product_code, count(*) as versions
    from history.decision_history
    group by product_code

)

select
    cast(codes.product_code as varchar) as product_code,
    cast(codes.topic as varchar) as topic,
    cast(codes.family as varchar) as family,
    codes.gives_cover,
    cast(coalesce(seen.versions, 0) as bigint) as seen_in_history
from codes
left join seen on seen.product_code = codes.product_code
