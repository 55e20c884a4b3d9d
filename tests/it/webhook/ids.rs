//! The ids the fixtures in `tests/fixtures/webhooks/` use, so a test names what it expects
//! instead of repeating 150-character message ids.

pub(crate) const PAGE_A: &str = "104417552380421";
pub(crate) const PAGE_B: &str = "231847566712093";
pub(crate) const PSID_1: &str = "6758492015643287";
pub(crate) const PSID_2: &str = "24817365029481736";
pub(crate) const PSID_3: &str = "7301958246610384";
/// The app that owns the conversations (its echoes carry this `app_id`).
pub(crate) const APP_OURS: &str = "873412659012345";
/// Meta's Page Inbox app, the usual other party of the handover protocol.
pub(crate) const APP_INBOX: &str = "263902037430900";

pub(crate) const IG_ACCOUNT: &str = "17841405309211844";
pub(crate) const IG_ACCOUNT_B: &str = "17841463529871125";
pub(crate) const IGSID_1: &str = "7203498123645791";
pub(crate) const IGSID_2: &str = "26591847302918463";

pub(crate) const M_TEXT: &str =
    "m__GiONuz5y7W2lrDY2SNNcSEa87iEg6kAILUJd0xH-nkkPMoeoPdh08YkSff_FsJsg-cSePK143XkEbtwFQJ1eZ";
pub(crate) const M_QUICK_REPLY: &str =
    "m_UYhA8P55F0ldOflMpLZPbXwZ_tALpt0bhvimyZB0rv9PjCSwKRaIdI-gVHGZmhPIyBT5gactO14k3M12-geTzq";
pub(crate) const M_REPLY: &str =
    "m_f18h1KiRhOANbl7zToOpMxEU8Ko2bKOBW8-gtnROH8q7a9N7ectt5k5NGAn05eUYjw2K1tv5LjTqCHYqk0MOjC";
pub(crate) const M_REPLIED_TO: &str =
    "m_LH2mfsiYHHe0pqy3-Kzic0sY9nj2bKsFF-ibwYbD9itmQTvGaA4EYrldHEqe6spNpFfc5H5KAnW0b6Vut9nzT_";
pub(crate) const M_MEDIA: &str =
    "m_ojjmYdLStO6eGNGJ_xFsl5M62Y8jZJyRNs0tMR6VL23WBDxQIS-df_ErmA3VC99pO9296PU5M7KpF2cFLO_x7f";
pub(crate) const M_LOCATION: &str =
    "m_Vl-70wXtL4a5QLA9RPMpdBy6p9o_dFPyNSAsewLoNpJMOJb495p7m5S8b1pmMJLJTuK0aNP_FuQjVFS1WPYFSQ";
pub(crate) const M_FALLBACK: &str =
    "m_pZ8P-tvS-m8kYTDAcZ67MO9MXL8GY9Y5528IP7bnZe7_qw02Tivkffhltk0t8ki93RCWFYTlZo_lOJGzyZ_a-S";
pub(crate) const M_STICKER: &str =
    "m_fTi8yKZ7ryciy29Fz75KOEf-uCY7UjbzlqPR5GpDKoZXdX69IbprRv564GEXz5c_wYiDQgg317O1ikP18f2q3b";
pub(crate) const M_ECHO_TEMPLATE: &str =
    "m_J1vTmI0mogMkemSIlbYXA6NP19thYD9_E-Et_y8Q1NgxGDz-5VXvEUDNRUHBXfEcAwHXZ1eCFcCuYCRw_3A4nt";
pub(crate) const M_ECHO_INBOX: &str =
    "m_UwoaZC7KawIC5sruzEcxte96G7qZ2m0XOR-aBi9uU46jdj4AF6JZNGYsJk2diJyC5wH-IDi5zCSz2XuMnldXXd";
pub(crate) const M_DELIVERED_2: &str =
    "m_7cdC6jRmw0tewIhmzx2CA2Kyui-UAPui75e2LM_i1_yQ955c5xKZiGjO0xCFXe83hVaILS7iwrFXT36Id0VCHL";
pub(crate) const M_POSTBACK: &str =
    "m_gfcOyXtn2KQ41jEDJR6Ua_P5AOZ80cf3k5hyMgL526PNZukZR3uv296cJ8T3w2ApnAMD4qLvMGXkdxsg4sZgG2";
pub(crate) const M_STANDBY_TEXT: &str =
    "m_3aJ4IKCKDkNsosLo-doZDDhpuPuoJGmksIXY0mtGuZkyXoSgbDwzl9Il4MU0_qe6x8UT_WKueUdECH3f6s_iAG";
pub(crate) const M_STANDBY_ECHO: &str =
    "m_9ZyMY88toefoGjRa_SXkLlTQvlv4MYp5Hx4sPKB7-HgJ44aRJ5TaNqzurvfXGYHA4UTxtcj1VKmSf4ix6IrOk8";
pub(crate) const M_BATCH_A: &str =
    "m_Klx48EzgGjJxOTRzeyKJ_xei4wNNYiH8OTnfO6QTnhfqpjkrwE78G-emfSMrVH_caeZI-nXKwgFIvvlvW9hRpx";
pub(crate) const M_BATCH_B: &str =
    "m_4bYh9hnbQI1V975LCUWL1Dtf2HjjWe0LHtJxBG2kDOmu3xxHG_NhsjjhKt8zWRodwfdf_Y6GLnMmTggmzIN1x1";
pub(crate) const M_BATCH_C: &str =
    "m_0rLXvoGic4KvTugdokjPI9_4Y8TH5r8XRVG2i6RFA88Lnjdn58W6t1xs7ky-JwDBUo1m4L4WfNr5FEMs3BzbSy";
pub(crate) const M_UNKNOWN_NEIGHBOUR: &str =
    "m_l5lixqb6HC9t40G_H_VP0ScjE8Iv8vERXHUdXYiuevBcunbWT5jtO2t3i_4mqBlg5Ta1lXYLYFgPAMcK5f5UtT";
pub(crate) const M_TS_SECONDS: &str =
    "m_VxjgDN9hGBW7TBCjZEXsoRwSoq9kVoEKQwrDeSqw2ZhRO2BObIS-cavQq0iI4Wqq5KXCvnq9Tlyi9u-kdgk2ud";
pub(crate) const M_TS_STRING_MS: &str =
    "m_H75FXPHncmhBB11x3M-tDwrxBzFRlAn-JN68PDd1oJStr_929F13pvdTiUkEKk69eEwPoXp1Ns1pmq6qYu0NVL";
pub(crate) const M_TS_STRING_SECONDS: &str =
    "m_sOz1YCvpYxwdNYFrd5gbgqdyvFVk9nDC9SiQM7MDzrDnSVeZx_D7Ar0eOfodI_CxyWmR-zMJUvxNCP2KCN92fQ";
pub(crate) const M_TS_MISSING: &str =
    "m_tbzsopuWyY5guKfvmHccEEKdiuKvg1OOGCt40e3HnYnRn2D_2cnqQDNMGndgO__IShgsO0p-0FCjAMEwyfNaUj";
pub(crate) const M_MISSING_MID_NEIGHBOUR: &str =
    "m_BWJjjkUPY4nmum_7Sa-4Cclbsc3yfCeTw6NutvNYiCjlr_-m6c26B7YdTKa-6m9mrmT4MrjnmN-Bj0GSDXcG0g";
pub(crate) const M_ESCAPED: &str =
    "m_BdZLUQ8VYGNv2IpJ_mvn_EAjqXmSADinPu0eV6gjiIoUMgm1MuEiEJ4FpBarQNnb5UdMFRyT5WZJ_yBK4MQqKN";
pub(crate) const M_COMMANDS: &str =
    "m_CzzceqPFUBx1cJ6r9z3oCXT1DV_0fGHIKhOVINymBdtoIocAbPP_mKJUc3N2zAEbpSXhyFuyjIgIQlwe6reKaN";
pub(crate) const IG_TEXT: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjI1NjcwMDE4Mjg4NzE3MjA5OTI2NTY2OTcwNzk1ODU4MDUxMTk4NTo0OTg4OTE5MDkzNzc0MDc0MTIwMzA5NzUxMjgxMTIxMQ";
pub(crate) const IG_QUICK_REPLY: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjAwNjU4MTkwNDcwMzEwMjgzNjY2ODY5Mjk5OTQ0MDc3NDg3NDEyMzo5OTY1NzM2Njc2OTkxNTczMzQwOTY4MDYyMTA0OTUzOQ";
pub(crate) const IG_MEDIA: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjA4NTc0ODM0OTQ3MjQ3NjU5NTYxNTQzMTg1NjgyNzE3MTE1MTM4NjowMzIzNDU0MTUyMDcwOTM5MDQ2MjkzODM5MDU5MTExMA";
pub(crate) const IG_STORY_MENTION: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjMyMDIyMDY5MDQ3ODM1MTM1ODEwMjkxMzExMDI1NTYyOTk3MDU2NTo1MzM4OTE2MDQwMTM3ODAxODE1MDMwNjgzMDIwODcwOA";
pub(crate) const IG_POST_SHARE: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0Ojk4NjIwNTg5ODEzODc5NTI2ODUwMTY3NjQ2NjMyNzc1MzMzMTcwNDo4MDcyNTc5MDQyMTExMDkyODIyNTc0OTkzNDY4MjE4NQ";
pub(crate) const IG_IG_REEL: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjIwODgyOTU4NDI3OTQ0NTU3NTE5NzgwNTU5OTY5MDYzNjQ2NjAyODowMzI2MDcwODI4NzU1MDE3MTA0MTM5MzUyOTM3Nzk4Mw";
pub(crate) const IG_REEL: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjMxNzgyNDA2NzMyMjg2ODY4ODU2MjA4Njk3Mzc3MzM1MjM0MTEyODo4MzYxMjk1MjM3MTYwNzk1NzkyMjA5OTcyODQ1NjU4Nw";
pub(crate) const IG_REPLY_STORY: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjY5MzgzNjMwMjg4NTMwNTM3NTM0MjMxNzE5OTc0MjQ0NzI2OTM4MzoxODA5NzQyNTA4MzM2NTU5ODY1MDA0NzE3OTU4Mjk3Ng";
pub(crate) const IG_REPLY_MESSAGE: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjUxMzk0OTU3MzY3NjM2Mzg5OTMwMjgzNjI3MjkwMDYyOTE2Njk2MTo5OTQ3MzkwMTMyNzQ0NDQ3NzU5Njg4NjQ1MTA2MDk1MA";
pub(crate) const IG_UNSUPPORTED: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjczODM5MzIxNjQ4NjIzMTU0Nzg1ODg4Njg0MjQxMTg1NjQ3MjA3MzoxMDcyNTUwNDQ2MjI4NTIxNTAxMDM1NTU1ODQ2Mjc1NQ";
pub(crate) const IG_DELETED: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjA0MTkzMzA2NjYyNzc3NTU4ODAyMTY1NzAzMTM1NDQwODE0MTU4MToxNjc2Mzk3MTg2OTgwNzc0ODAxMDg5NjUwNjkwNDgxMg";
pub(crate) const IG_ECHO: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjY4NDYzMjA0Mzk1ODI3NzIwMzQ0MzczODk0NTk2OTg0NTU4NTk1OTo0MjQ2NTAyNTYwOTE2MjU1MTg2OTA5Nzk3MDYzMDI2MA";
pub(crate) const IG_ICEBREAKER: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0Ojk1ODc5Mjk4MDcyODg0NDEyMTQ3MTk4NjcxODA1MDc4NTAwNTcxODo5OTcyODM4MzU0NzAzNzQyNTg1NzEyMjQyMDIzNDE5Mg";
pub(crate) const IG_TEMPLATE_BUTTON: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjAxNDc4ODc1MzU4MzE0NDY0ODk3MDA3MzA4MzMxMzgyMTQ0NDMzNDozNTUxMjQ4NjEwOTkzMjYwNzc3NzA4OTcyODA3NTE0Mw";
pub(crate) const IG_AD_REFERRAL: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjQ0MjQ2MjM4MjgxNzUwMDg2Mzk2Mzg1NjA3Njc5NDg0MDk2OTgyOTo4ODM2ODM3NjcwNjMzNjMwNjQyODUxMDQ3MDY1MjU5OA";
pub(crate) const IG_CHANGES_POSTBACK: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjQzNDE2MTMxMzgxNDUyOTU1MzUzMzE2OTYxMTg5NDczOTg4NjUzNDowNjQyNTI4NzcyMDAzNTU3NTUzNjc2MzYwNDI3NzgwMA";
pub(crate) const IG_BEFORE_BAD_ENTRY: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjA5NTA0NjI5NzcwNTIzMTY0MDkzMjk2ODE3OTQyNTMwNzk3MTE2NjoyOTQ5NjI1NjYzMDczMDU3OTQ5MDEwMjc5NTk1NTE2NA";
pub(crate) const IG_AFTER_BAD_ENTRY: &str = "aWdfaXRlbToxOklHTWVzc2FnZUlEOjE3ODQxNDA1MzA5MjExODQ0OjY3NTUzOTExNzQ3MDcwOTgwODQzNTQ1NTk2MDY2NTA4NjI5NDk0ODo2NzkxMjI3ODg3Mjc1MDA0MTk0MDAyNDk1NTEwNTc3MA";
pub(crate) const M_USER_REF_POSTBACK: &str =
    "m_zwZWdfRLgxL-Z1bvxbT7WrKL8ozFiA2auK7Z7GtQbU4WWEOCV81K2LSnAwqRzZHb4gzQt8HQT0PMPSlWW0Sao_";
